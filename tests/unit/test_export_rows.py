"""The access export's records written straight from their rows (issue 15, item 4): byte for byte what the
same records written as :class:`FormedRecord` write, for every kind of value a row can hold."""

from __future__ import annotations

import io
import itertools
import random
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from dsr.exports.build import ExportWriter, FieldForm, FormedRecord, RowLayout, RowRecords
from dsr.exports.schema import ExportSchema
from dsr.fulfilment.access import plain_value

TEXTS = ["plain", "", 'say "hi" \\ back', "a, b", "café ë €", "\u2028 line\nbreak\t", "cr\r", "=1+2", "+31 6 1234",
         "-12.50", "@home", "\tx", "100 %", "%s %d %(x)s", "%", "0", "NL91ABNA0417164300"]
VALUES = [*TEXTS, 0, -7, 2**70, True, False, None, 1.5, Decimal("12.50"), b"\x00\xff", date(1990, 1, 31),
          datetime(2026, 6, 1, 9, 30), datetime(2026, 6, 1, 9, 30, 5, 120, tzinfo=UTC),
          datetime(2026, 6, 1, 9, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))), {"a": [1, "x"]}, [1, "y"]]


def _form(name, category, withheld=False, categories=("user.contact",)):
    return FieldForm({"name": name, "categories": list(categories), "value": None, "category": category,
                      "provided": True, "withheld": withheld, "review_third_parties": False})


NAMES = ["id", "note", "amount", "paid_on", "secret", "town"]
FIELDS = [(1, _form("note", "contact")), (2, _form("amount", "financial", categories=("user.financial",))),
          (3, _form("paid_on", None, categories=())), (4, _form("secret", "account", withheld=True)),
          (5, _form("town", "contact"))]


def read(row):
    """A row's record as the access export's reader makes it (:func:`dsr.exports.content._access_reader`):
    no entry for an empty value, a withheld one null, a date or time as ISO 8601, the rest as plain_value."""
    values = []
    for at, form in FIELDS:
        value = row[at]
        if value is None or value == "":
            continue
        if form.entry["withheld"]:
            value = None
        elif type(value) is not str and type(value) is not int:
            value = value.isoformat() if type(value) is date or type(value) is datetime else plain_value(value)
        values.append((form, value))
    key = row[0]
    return FormedRecord({"id": key if type(key) is int else plain_value(key)}, values)


def _rows(count):
    pick = random.Random(15).choice
    keys = itertools.count(1)
    rows = []
    for n in range(count):
        key = next(keys) if n % 97 else pick(["k-1", 3.5, True, -4, 2**64])  # now and then a key of another type
        rows.append((key, pick(VALUES), pick(VALUES), pick(VALUES), pick(VALUES), f"town {n % 400}"))
    return rows


def _chunks(rows, seed=7):
    """``rows`` in chunks as the export reads them (a list per chunk of keys), of sizes from 1 to 500."""
    pick = random.Random(seed).choice
    rows, chunks = list(rows), []
    while rows:
        size = pick([1, 2, 31, 128, 500])
        chunks.append(rows[:size])
        del rows[:size]
    return iter(chunks)


def _written(given, schema):
    target = io.BytesIO()
    writer = ExportWriter(target, head={"case_reference": "DSR-2026-00001", "kind": "access"}, schema=schema)
    summary = writer.collection({"source": "s", "collection": "c"}, given, found=len(ROWS) + 5)
    csvs = {category: b"".join(handle.blocks()) for category, handle in writer._csv.items()}
    writer._text.flush()
    writer._entry.close()
    writer.abort()
    with zipfile.ZipFile(target) as zf:
        data = zf.read("data.json")
    return (data, csvs, summary.record_count, summary.fields_seen, summary.categories, summary.category_counts,
            summary.sample, summary.more)


ROWS = _rows(3000)


def test_records_written_from_their_rows_are_those_written_as_formed_records():
    layout = RowLayout(NAMES, ["id"], [(at, form, form.entry["withheld"]) for at, form in FIELDS], read)
    rows_schema, formed_schema = ExportSchema(), ExportSchema()
    from_rows = _written(layout.rows(_chunks(ROWS)), rows_schema)
    as_formed = _written((read(row) for row in ROWS), formed_schema)
    assert from_rows == as_formed
    assert from_rows[2] == len(ROWS) and set(from_rows[1]) == {"contact", "financial", "other", "account"}
    assert b"'=1+2" in from_rows[1]["contact"] and b'"a, b"' in from_rows[1]["contact"]
    # Validated once per shape on both paths (a shape is which fields hold a value of which type).
    assert rows_schema.shapes == formed_schema.shapes and rows_schema.records_validated < len(ROWS) / 3


def test_rows_iterated_are_their_formed_records():
    """A writer that iterates what it is given (as the tests' writer as before issue 15 does) gets the rows'
    records."""
    layout = RowLayout(NAMES, ["id"], [(at, form, form.entry["withheld"]) for at, form in FIELDS], read)
    given = layout.rows(_chunks(ROWS[:50]))
    assert isinstance(given, RowRecords)
    assert [r.as_dict() for r in given] == [read(row).as_dict() for row in ROWS[:50]]


def test_a_key_written_record_by_record_when_it_is_not_one_plain_name():
    for key in (["id", "town"], ["1d"], ["a b"], ["=x"]):
        layout = RowLayout(NAMES, key, [(at, form, form.entry["withheld"]) for at, form in FIELDS], read)
        assert layout.key_name is None
        assert _written(layout.rows(_chunks(ROWS[:200])), ExportSchema()) == _written(
            (read(row) for row in ROWS[:200]), ExportSchema())


# -- values flagged for review (Art. 15(4)) -------------------------------------------------------------------

def _flagged_form(name, category, decided=None):
    entry = {"name": name, "categories": ["user.content"], "value": None, "category": category, "provided": False,
             "withheld": False, "review_third_parties": True}
    return FieldForm({**entry, **({"redaction": decided} if decided else {})})


DECISIONS = [{"decision": "release", "reason": ""}, {"decision": "redact", "reason": 'hij zei "nee" \u2028 100 %s'},
             {"decision": "withhold", "reason": "het bevat de stem van een ander"},
             {"decision": "release", "reason": "%(x)s"}]
FLAGGED_NAMES = ["id", "note", "agent", "uri"]
FLAGGED = ["agent", "uri"]
DECIDED_FORMS = {name: [_flagged_form(name, "recording" if name == "uri" else None, d) for d in DECISIONS]
                 for name in FLAGGED}
UNDECIDED_FORMS = {name: _flagged_form(name, "recording" if name == "uri" else None) for name in FLAGGED}
NOTE = _form("note", "contact")


def _flagged_rows(count):
    """Rows as :func:`dsr.exports.content._released_rows` gives them: the columns, each flagged field's value
    as released, the variant; and beside each its record as the reader makes it."""
    pick = random.Random(4).choice
    given, records = [], []
    for n in range(count):
        key = n + 1 if n % 89 else pick(["k-1", 2**64])
        row, shown, variant, values = [key, pick(VALUES)], [], [], []
        note = row[1]
        if note is not None and note != "":
            values.append((NOTE, note if type(note) in (str, int) else plain_value(note)))
        undecided = False
        for name in FLAGGED:
            value = pick([*TEXTS, None, 7, "agent 7", "s3://bucket/x.wav"])
            row.append(value)
            if value is None or value == "":
                shown.append(None)
                variant.append(None)
                continue
            if n % 211 == 5:  # undecided: the row is written as a record (the reader would refuse it)
                undecided = True
                values.append((UNDECIDED_FORMS[name], value))
                shown.append(None)
                continue
            d = pick(range(len(DECISIONS)))
            released = None if d == 2 else f"[withheld] {value}" if d == 1 else value
            shown.append(0 if released is None else released)
            variant.append((DECIDED_FORMS[name][d], released is None))
            values.append((DECIDED_FORMS[name][d], released))
        given.append((*row, None, None, None) if undecided else (*row, *shown, tuple(variant)))
        records.append(FormedRecord({"id": key if type(key) is int else plain_value(key)}, values))
    return given, records


def _written_with_review(given):
    target = io.BytesIO()
    writer = ExportWriter(target, head={"case_reference": "DSR-2026-00001", "kind": "access"}, schema=ExportSchema())
    summary = writer.collection({"source": "s", "collection": "c\u00e9"}, given, found=3000)
    csvs = {category: b"".join(handle.blocks()) for category, handle in writer._csv.items()}
    review = writer.review
    flags = b"".join(review.blocks())
    facts = (flags, review.count, review.undecided, dict(review.withheld), review.examples())
    writer._text.flush()
    writer._entry.close()
    writer.abort()
    with zipfile.ZipFile(target) as zf:
        data = zf.read("data.json")
    return (data, csvs, summary.record_count, summary.fields_seen, summary.categories, summary.category_counts,
            summary.sample, facts)


def test_rows_with_flagged_values_write_what_their_formed_records_write():
    given, records = _flagged_rows(3000)
    by_row = dict(zip(map(id, given), records, strict=True))
    layout = RowLayout(FLAGGED_NAMES, ["id"], [(1, NOTE, False)] + [(2 + n, UNDECIDED_FORMS[name], False)
                                                                     for n, name in enumerate(FLAGGED)],
                       lambda row: read_rows.append(row) or by_row[id(row)], flagged=[1, 2])
    read_rows = []
    from_rows = _written_with_review(layout.rows(_chunks(given)))
    assert len(read_rows) < len(given) / 2  # most rows written from their row form, not read as records
    as_formed = _written_with_review(iter(records))
    assert from_rows == as_formed
    flags, count, undecided, withheld, _examples = from_rows[7]
    assert count > 3000 and 0 < undecided < 100 and {k[3] for k in withheld} == {"redact", "withhold"}
    assert b"[withheld]" in from_rows[0] and b'"decision": "withhold"' in flags


def _progress_seen(given, wanted):
    """The counts at which the writer called progress, the progress asking to be called next at ``wanted(n)``."""
    seen = []

    def progress(n):
        seen.append(n)
        return wanted(n)

    writer = ExportWriter(io.BytesIO(), head={"case_reference": "DSR-2026-00001", "kind": "access"},
                          schema=ExportSchema())
    writer.collection({"source": "s", "collection": "c"}, given, found=len(ROWS), progress=progress)
    writer.abort()
    return seen


def test_progress_is_called_at_the_counts_it_asks_for():
    """The job's progress is worded when its percentage moves, at most 91 times: the writer calls it at the
    count where it moves next instead of after each of 3,000 records, from rows and from records alike; a
    progress that returns None is called after every record."""
    layout = RowLayout(NAMES, ["id"], [(at, form, form.entry["withheld"]) for at, form in FIELDS], read)
    every_97th = lambda n: (n // 97 + 1) * 97  # noqa: E731
    assert _progress_seen(layout.rows(_chunks(ROWS)), every_97th) == [1, *range(97, len(ROWS) + 1, 97)]
    assert _progress_seen((read(row) for row in ROWS), every_97th) == [1, *range(97, len(ROWS) + 1, 97)]
    assert _progress_seen(layout.rows(_chunks(ROWS[:300])), lambda n: None) == list(range(1, 301))


def test_the_keys_of_rows_are_what_key_text_writes():
    """How the export names a row's record to find its decisions (dsr.exports.content._row_keys: a whole
    number between ready-made pieces) is what dsr.fulfilment.redaction.key_text writes of its key."""
    from dsr.exports.content import _row_keys
    from dsr.fulfilment.redaction import key_text

    numbers = [(n, "x", date(2026, 1, 2)) for n in (0, 7, -3, 2**70, 812)]
    others = [*numbers, ("k-1", "y", None), (True, "z", None), (date(2026, 1, 2), "", None)]
    for name in ("id", 'sé"q\\'):
        for rows in (numbers, others):
            assert _row_keys([(name, 0)])(rows) == [key_text({name: plain_value(r[0])}) for r in rows]
    composite = [("b", 1), ("a", 2)]
    assert _row_keys(composite)(others) == [key_text({"b": plain_value(r[1]), "a": plain_value(r[2])})
                                            for r in others]
