"""Writing an export ZIP as a stream: data.json, one CSV per category, the overview, and the manifest.

A subject with very many records (years of monthly premium payments, thousands of calls) must not need
their whole file in memory. :class:`ExportWriter` takes one collection at a time as an iterator of
records and writes each record straight into the ``data.json`` entry of the ZIP
(:meth:`zipfile.ZipFile.open` in ``"w"`` mode), hashing as it writes. A ZIP holds one open entry at a time,
so the CSV rows go to temporary files (one per category, on disk) and are copied into the ZIP after
``data.json`` is closed. What stays in memory is bounded: per collection its header, the names of the
fields that held a value, and the first :data:`SAMPLE_SIZE` records for the overview.

Every entry's SHA-256 and size go into ``manifest.json``, so the subject (or the next controller, Art.
20(2)) can check that nothing was lost or changed on the way. Pure: no Flask, no database.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain, groupby, islice, repeat
from json.encoder import encode_basestring
from operator import itemgetter
from typing import IO, Any, BinaryIO, NamedTuple

from dsr.exports.schema import ExportSchema

SAMPLE_SIZE = 20  # records per collection shown in the overview; all of them are in data.json and the CSVs
CSV_COLUMNS = ("source", "collection", "record", "field", "value", "categories", "provided", "withheld")
OTHER_CATEGORY = "other"
_COPY_BLOCK = 64 * 1024
_ROWS_AT_ONCE = 40  # rows written from their row forms at a time: their text is what they add to memory


@dataclass
class FileEntry:
    path: str
    sha256: str
    size: int
    media_type: str

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "size": self.size, "media_type": self.media_type}


@dataclass
class CollectionSummary:
    """What the overview and the access answer need of a collection, without its records."""

    header: dict[str, Any]
    record_count: int = 0
    categories: set[str] = field(default_factory=set)  # fideslang
    # One example per field that held a value (value dropped): what the statement's categories follow from.
    fields_seen: dict[str, dict[str, Any]] = field(default_factory=dict)
    sample: list[dict[str, Any]] = field(default_factory=list)
    # The recipients the records name, by (field, statement recipient id): {names} (CJEU C-154/21).
    recipients: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    # Per category of the statement ("other" where it names none): [records with a value in it, values].
    category_counts: dict[str, list[int]] = field(default_factory=dict)

    @property
    def more(self) -> int:
        return self.record_count - len(self.sample)


@dataclass
class Built:
    files: list[FileEntry]
    record_count: int
    manifest: dict[str, Any]


class _TextBlocks:
    """Text written to a byte sink as UTF-8 a block at a time, not a piece at a time (the same bytes)."""

    block = _COPY_BLOCK  # characters held before they are written

    def __init__(self, sink) -> None:
        self.sink = sink
        self.parts: list[str] = []  # a writer in a hurry appends here and calls :meth:`written` now and then
        self._size = 0  # the length of the first ``_counted`` parts
        self._counted = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.written()

    def written(self) -> None:
        """After texts were appended to :attr:`parts` directly: write them once they make a block (only the
        texts appended since the last call are measured)."""
        parts = self.parts
        if self._counted < len(parts):
            self._size += sum(map(len, parts[self._counted:]))
            self._counted = len(parts)
            if self._size >= self.block:
                self.flush()

    def flush(self) -> None:
        if self.parts:
            self.sink.write("".join(self.parts).encode("utf-8"))
            self.parts.clear()
            self._size = self._counted = 0


class _Spool(_TextBlocks):
    """A CSV file being written, in a binary temporary file. (A text-mode temporary file opened for reading
    too resets its decoder on every write: a cost per CSV row.) Its text is written 8 KB at a time: up to
    nine of them fill at once, and 64 KB each held 0.4-0.7 MB more at the export's peak (issue 15, item 4);
    the file is copied into the ZIP in blocks of its own, so the bytes are the same."""

    block = 8 * 1024

    def __init__(self) -> None:
        super().__init__(tempfile.TemporaryFile())

    def blocks(self):
        """The file's bytes from the start, a block at a time."""
        self.flush()
        self.sink.seek(0)
        while block := self.sink.read(_COPY_BLOCK):
            yield block

    def close(self) -> None:
        self.sink.close()


class _HashingSink:
    """Forwards bytes to a ZIP entry, counting and hashing them."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
        self.target.write(data)


class ReviewFlags:
    """The values flagged for review (Art. 15(4)) with the decision on each: data.json's
    ``access.redaction_review``, kept as its JSON text in a temporary file as the records are written, not
    as a dict per value (40,000 of them for a subject with 20,000 call recordings). What else is asked of
    them is counted as they come: how many, how many undecided, and per collection, field, decision and
    reason how many were redacted or withheld (the overview's table). :func:`json.dumps` of a document that
    holds this object writes the list (:meth:`ExportWriter.close_data`)."""

    def __init__(self) -> None:
        self.count = 0
        self.undecided = 0
        self.withheld: Counter[tuple[str, str, str, str, str]] = Counter()
        # One flag per shape (its members' names and JSON types, and its decision: the schema's enum), which
        # is what the document is validated with (:meth:`examples`).
        self._shapes: dict[tuple, dict[str, Any]] = {}
        self._spool = _Spool()

    def add(self, flag: dict[str, Any]) -> None:
        self._spool.write((", " if self.count else "") + _JSON_TEXT.encode(flag))
        self.count += 1
        decision = flag.get("decision")
        if not decision:
            self.undecided += 1
        elif decision in ("redact", "withhold"):
            self.withheld[(flag["source"], flag["collection"], flag["field"], decision,
                           flag.get("reason") or "")] += 1
        self._note_shape(flag)

    def _note_shape(self, flag: dict[str, Any]) -> None:
        decision = flag.get("decision")
        shape = (tuple([(k, type(v)) for k, v in flag.items()]),
                 decision if type(decision) is str else type(decision))
        if shape not in self._shapes and len(self._shapes) < _MAX_FLAG_SHAPES:
            self._shapes[shape] = flag
        elif len(self._shapes) >= _MAX_FLAG_SHAPES:
            self._shapes[(shape, self.count)] = flag  # past the limit, every flag is validated

    def first_of_form(self, flag: dict[str, Any]) -> bool:
        """Note the shape of ``flag``, the first of flags written as text (:meth:`add_texts`) that are all of
        its shape; False (nothing noted) once so many shapes were seen that every flag is validated."""
        if len(self._shapes) >= _MAX_FLAG_SHAPES:
            return False
        self._note_shape(flag)
        return True

    def add_texts(self, text: str, records: int, withheld: list[tuple | None]) -> None:
        """The decided flags of ``records`` records of one kind as their JSON text, each after ", " (what
        :meth:`add` writes of their dicts), of shapes already noted (:meth:`first_of_form`); ``withheld`` per
        flag of a record its key in :attr:`withheld` if it was redacted or withheld, else None."""
        self._spool.write(text if self.count else text[2:])
        self.count += records * len(withheld)
        for key in withheld:
            if key is not None:
                self.withheld[key] += records

    @property
    def checked(self) -> bool:
        """A person decided every flagged value (and there was one)."""
        return self.count > 0 and self.undecided == 0

    def examples(self) -> list[dict[str, Any]]:
        """One flag of each shape: a list the schema (whose ``redaction_review`` constrains only its items)
        finds valid exactly when it finds the whole list valid."""
        return list(self._shapes.values())

    def blocks(self):
        """The list's items as JSON text (UTF-8), a block at a time."""
        return self._spool.blocks()

    def close(self) -> None:
        self._spool.close()


_MAX_FLAG_SHAPES = 1_000


def csv_cell(value: Any) -> str:
    """A value as a CSV cell; a leading = + - @ is neutralised, so a spreadsheet does not run it as a
    formula (CSV injection; as the audit CSV, :mod:`dsr.audit.queries`)."""
    if type(value) is str:  # most cells: only one that starts like a formula needs a closer look
        if not value or value[0] not in _FORMULA_START:
            return value
        text = value
    elif value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    elif isinstance(value, int | float):
        return str(value)  # a number is never a formula: -12.5 stays -12.5
    else:
        text = str(value)
    if _PLAIN_NUMBER.fullmatch(text):
        return text
    return "'" + text if text[:1] in _FORMULA_START else text


# "-12.50", "+3": numbers written as text are left as they are; anything else that starts like a formula
# ("+31 6 …", "=HYPERLINK(…)") gets a leading apostrophe, which spreadsheets hide (see exports/README.md).
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


_CSV_SPECIAL = re.compile(r'[,"\r\n]')


def csv_field(text: str) -> str:
    """One cell as :func:`csv.writer` writes a text (quoted where it holds a comma, a quote or a line end)."""
    if _CSV_SPECIAL.search(text) is None:
        return text
    return '"' + text.replace('"', '""') + '"'


def csv_line(cells: Iterable[str]) -> str:
    """A row as :func:`csv.writer` writes it (its line end included; a row of one empty cell is ``""``)."""
    cells = list(cells)
    return ('""' if cells == [""] else ",".join(csv_field(c) for c in cells)) + "\r\n"


def _key_text(key: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in key.items())


def _json_value(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)``, without its overhead for the common text and whole number."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    return _JSON_TEXT.encode(value)


_JSON_TEXT = json.JSONEncoder(ensure_ascii=False)  # what json.dumps(..., ensure_ascii=False) uses, made once


class FieldForm:
    """A field's entry in data.json as every record of a collection has it, but for its value: worked out
    once per collection, so a record is written as its values between ready-made pieces of JSON and CSV
    (issue 15, item 4). ``entry`` is the whole entry with ``"value"`` in its place (its value ignored), with
    the ``redaction`` of a flagged value (one form per decision); an entry that differs per record (a
    recipient named) is written as a plain dict instead."""

    __slots__ = ("entry", "name", "category", "prefix", "suffix", "csv_before", "csv_after", "csv_name", "csv_tail",
                 "flag")

    def __init__(self, entry: dict[str, Any]) -> None:
        self.entry = {**entry, "value": None}
        self.name = entry["name"]
        self.category = entry.get("category") or OTHER_CATEGORY
        names = list(self.entry)
        at = names.index("value")
        before = {k: self.entry[k] for k in names[:at]}
        after = {k: self.entry[k] for k in names[at + 1:]}
        self.prefix = (json.dumps(before, ensure_ascii=False)[:-1] + ", " if before else "{") + '"value": '
        self.suffix = ", " + json.dumps(after, ensure_ascii=False)[1:] if after else "}"
        self.csv_before = (csv_cell(self.name),)
        self.csv_after = (" ".join(self.entry["categories"]), csv_cell(self.entry.get("provided")),
                          csv_cell(self.entry.get("withheld", False)))
        # The same as CSV text: a row is the record's part, these and the value between them.
        self.csv_name = csv_field(self.csv_before[0]) + ","
        self.csv_tail = "," + csv_line(self.csv_after)
        # A value flagged for review (Art. 15(4)) is listed with the decision its entry carries.
        decided = self.entry.get("redaction") or {}
        self.flag = (decided.get("decision"), decided.get("reason")) if self.entry.get("review_third_parties") \
            else None


class FormedRecord(NamedTuple):
    """A record as its key and its ``(form, value)`` pairs, in field order: what :meth:`as_dict` gives,
    written without building it."""

    key: dict[str, Any]
    values: list[tuple[FieldForm, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "fields": [{**form.entry, "value": value} for form, value in self.values]}

    def json(self) -> str:
        """Exactly ``json.dumps(self.as_dict(), ensure_ascii=False)``."""
        key = ", ".join(encode_basestring(k) + ": " + _json_value(v) for k, v in self.key.items())
        fields = ", ".join(form.prefix + _json_value(value) + form.suffix for form, value in self.values)
        return '{"key": {' + key + '}, "fields": [' + fields + "]}"


class RowLayout:
    """How the rows of a collection whose fields are the same for every record (none flagged for review,
    none naming a recipient) are its records: ``names`` are the row's columns, ``key`` the primary key's,
    ``fields`` the ``(position in the row, form, withheld)`` of each field shown, ``read`` a row's
    :class:`FormedRecord`. The writer writes a row from its values and text worked out once per kind of row
    (:meth:`ExportWriter._row_form`), not through a record per row: the same bytes (issue 15, item 4)."""

    def __init__(self, names: list[str], key: list[str], fields: list[tuple[int, FieldForm, bool]],
                 read: Callable[[Sequence[Any]], FormedRecord], flagged: Sequence[int] = ()) -> None:
        self.fields = [(form, withheld) for _at, form, withheld in fields]
        self.read = read
        # One key whose name a CSV cell holds as it is ("id=812"); another key is written record by record.
        self.key_name = key[0] if len(key) == 1 and _PLAIN_NAME.fullmatch(key[0]) else None
        positions = [names.index(key[0]) if self.key_name else 0] + [at for at, _form, _withheld in fields]
        # Fields flagged for review (Art. 15(4)), by their place in ``fields``: a row then carries, after its
        # columns, each one's value as released and last its *variant*: per flagged field its
        # ``(form, withheld)`` under its decision (None: no value), or None for a row written as a record
        # (an undecided value: the reader refuses it). See :func:`dsr.exports.content._released_rows`.
        self.flagged = list(flagged)
        for n, at in enumerate(self.flagged):
            positions[1 + at] = len(names) + n
        if self.flagged:
            positions.append(len(names) + len(self.flagged))
        self.values_of = _picker(positions)  # the key's value, then each field's (then the variant)
        self.cell_texts = [_CellTexts().__getitem__ for _field in fields]  # a text's CSV cell, per field

    def rows(self, chunks: Iterable[Iterable[Sequence[Any]]]) -> RowRecords:
        return RowRecords(self, chunks)


class RowRecords:
    """A collection's rows, a chunk (an iterable of rows) at a time, and their :class:`RowLayout`, handed to
    :meth:`ExportWriter.collection`; iterated, their records as :class:`FormedRecord`. A row may be read as a
    record only while its chunk is being iterated (the reader's decisions are the chunk's)."""

    def __init__(self, layout: RowLayout, chunks: Iterable[Iterable[Sequence[Any]]]) -> None:
        self.layout = layout
        self.chunks = chunks

    def __iter__(self):
        read = self.layout.read
        return (read(row) for chunk in self.chunks for row in chunk)


class _Template:
    """Text with holes: literal pieces with, between each two, the number of the column whose text goes
    there. It is filled for many rows at once by :meth:`fill`, the pieces and the columns' texts joined in
    one go (a ``%`` template would be parsed again for every row)."""

    __slots__ = ("pieces", "holes")

    def __init__(self) -> None:
        self.pieces = [""]
        self.holes: list[int] = []

    def add(self, text: str) -> None:
        self.pieces[-1] += text

    def hole(self, column: int) -> None:
        self.holes.append(column)
        self.pieces.append("")

    def fill(self, columns: list[list[str]]) -> str:
        """The text once per row of ``columns`` (texts, as many per column), one after the other; a
        template has a hole at least (the key's)."""
        parts: list[Iterable[str]] = []
        for piece, at in zip(self.pieces, self.holes, strict=False):
            parts += (repeat(piece), columns[at])
        parts.append(repeat(self.pieces[-1]))
        return "".join(chain.from_iterable(zip(*parts, strict=False)))


class _RowForm:
    """The text of the rows of one kind (which fields hold a value, of which type): data.json's record and
    each category's CSV rows as :class:`_Template`, and the functions that turn the values into their
    text."""

    __slots__ = ("json", "json_texts", "csv_texts", "values", "csv", "count", "shape", "flags", "flags_text")

    def __init__(self) -> None:
        self.json = _Template()  # a record as it follows another in data.json (after ", ")
        self.json_texts: list[Callable[[Any], str]] = []
        self.csv_texts: list[Callable[[Any], str]] = []
        # The flagged values' entries in access.redaction_review: (the flag as a dict but for its key, its key
        # in ReviewFlags.withheld or None); their text, all of a record's after ", " each.
        self.flags: list[tuple[dict[str, Any], tuple | None]] = []
        self.flags_text = _Template()
        self.count = 0
        self.shape: tuple | None = None  # the records' shape, once the first was validated


def _csv_text(value: str) -> str:
    """``csv_field(csv_cell(value))`` of a text that is not empty."""
    if value[0] in _FORMULA_START:
        return csv_field(csv_cell(value))
    if _CSV_SPECIAL.search(value) is None:
        return value
    return '"' + value.replace('"', '""') + '"'


class _CellTexts(dict):
    """One field's texts and their CSV cells (:func:`_csv_text`), kept for the first :data:`_CELLS_KEPT`
    texts: a method, a status, a name that recurs on every record is looked up, not worked out again."""

    __slots__ = ()

    def __missing__(self, value: str) -> str:
        cell = _csv_text(value)
        if len(self) < _CELLS_KEPT:
            self[value] = cell
        return cell


_CELLS_KEPT = 256
_NONE = type(None)
# A row's value by its type: its text in data.json, in a CSV cell, and whether data.json quotes it. An ISO
# date or time needs no escaping, quoting or defusing (it starts with a digit); a whole number neither.
_ROW_TEXTS: dict[type, tuple[Callable[[Any], str], Callable[[Any], str], bool]] = {
    _NONE: (repr, repr, False),  # never called: a field without a value is left out
    str: (encode_basestring, _csv_text, False),
    int: (int.__repr__, int.__repr__, False),
    date: (date.isoformat, date.isoformat, True),
    datetime: (datetime.isoformat, datetime.isoformat, True),
}
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _picker(positions: list[int]) -> Callable[[Sequence[Any]], tuple]:
    """The tuple of the items at ``positions`` of a sequence."""
    if len(positions) > 1:
        return itemgetter(*positions)
    if positions:
        at = positions[0]
        return lambda values: (values[at],)
    return lambda values: ()


class ExportWriter:
    """One export ZIP, written in order: :meth:`collection` for each collection, :meth:`close_data` with the
    rest of data.json, :meth:`add_file` for the overview, :meth:`finish` for the manifest.

    ``head`` is data.json's opening fields (format, version, kind, case reference, ...). Every record and,
    at the end, the document without its records are validated against ``schema``.
    """

    def __init__(self, target: BinaryIO, *, head: dict[str, Any], schema: ExportSchema) -> None:
        self.zip = zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self.head = head
        self.schema = schema
        self.summaries: list[CollectionSummary] = []
        self.files: list[FileEntry] = []
        self.review = ReviewFlags()
        self._csv: dict[str, _Spool] = {}
        self._entry = self.zip.open("data.json", "w", force_zip64=True)
        self._data = _HashingSink(self._entry)
        self._text = _TextBlocks(self._data)  # encoded, hashed and compressed 64 KB at a time
        self._emit(json.dumps(head, ensure_ascii=False)[:-1] + ', "collections": [')

    def _emit(self, text: str) -> None:
        self._text.write(text)

    # -- data.json and the CSVs ------------------------------------------------------------------------

    def collection(self, header: dict[str, Any], records: Iterable[dict[str, Any]], *, found: int,
                   progress=None) -> CollectionSummary:
        """Write one collection's records as they come; returns its summary. ``found`` is how many the
        search found (those gone from the system since are counted as ``missing``); ``progress(n)`` is
        called after the ``n``-th record, the first time and then at the count it returns (after each record
        where it returns None): a caller that reports a percentage is not called 200,000 times for 90.

        A record is a dict as data.json holds it, or a :class:`FormedRecord`, which is written the same,
        byte for byte, from the pieces its forms hold: validated once per combination of forms and value
        types (that is its shape, :func:`dsr.exports.schema.record_shape`), counted per combination."""
        summary = CollectionSummary(header=header)
        where = f"{header['source']}.{header['collection']}"
        self._emit(("" if not self.summaries else ", ") + json.dumps(header, ensure_ascii=False)[:-1]
                   + ', "records": [')
        source, collection = csv_cell(header["source"]), csv_cell(header["collection"])
        record_start = csv_line((source, collection))[:-2] + ","
        formed: Counter[tuple] = Counter()  # records per combination of forms and value types
        spools: dict[str, _Spool] = {}  # this collection's CSV files by category, for the loop below
        next_call = 1 if progress is not None else _NEVER  # the record count at which progress is called
        if type(records) is RowRecords:
            next_call = self._from_rows(records, summary, formed, spools, record_start, where, progress, next_call)
            records = ()
        for record in records:
            if type(record) is FormedRecord:
                self._formed(record, summary, formed, spools, record_start, where)
            else:
                self.schema.check_record(record, f"data.json {where} record {summary.record_count + 1}")
                self._emit((", " if summary.record_count else "") + _JSON_TEXT.encode(record))
                if len(summary.sample) < SAMPLE_SIZE:
                    summary.sample.append(record)
                self._rows(header, record, summary)
            summary.record_count += 1
            if summary.record_count >= next_call:
                next_call = _called(progress, summary.record_count)
        for (_key, forms), count in formed.items():
            in_record: dict[str, int] = {}
            for form, _kind in forms:
                in_record[form.category] = in_record.get(form.category, 0) + 1
            for category, values in in_record.items():
                counts = summary.category_counts[category]
                counts[0] += count
                counts[1] += count * values
        tail = {"record_count": summary.record_count, "missing": max(found - summary.record_count, 0),
                "categories": sorted(summary.categories)}
        self._emit("], " + json.dumps(tail, ensure_ascii=False)[1:])
        summary.header = {**header, **tail}
        self.summaries.append(summary)
        return summary

    def _formed(self, record: FormedRecord, summary: CollectionSummary, formed: Counter[tuple],
                spools: dict[str, _Spool], record_start: str, where: str) -> None:
        """Write a :class:`FormedRecord` from the pieces its forms hold (the record count is the caller's)."""
        formed[self._shape_of(record, summary, formed, where)] += 1
        self._emit((", " if summary.record_count else "") + record.json())
        if len(summary.sample) < SAMPLE_SIZE:
            summary.sample.append(record.as_dict())
        start = record_start + csv_field(csv_cell(_key_text(record.key))) + ","
        header = summary.header
        for form, value in record.values:
            spool = spools.get(form.category)
            if spool is None:
                spool = spools[form.category] = self._spool(form.category)
            spool.write(start + form.csv_name + csv_field(csv_cell(value)) + form.csv_tail)
            if form.flag is not None:
                self.review.add({"source": header["source"], "collection": header["collection"],
                                 "key": record.key, "field": form.name, "decision": form.flag[0],
                                 "reason": form.flag[1]})

    def _from_rows(self, records: RowRecords, summary: CollectionSummary, formed: Counter[tuple],
                   spools: dict[str, _Spool], record_start: str, where: str, progress, next_call: int) -> int:
        """Write each row's record from a :class:`_RowForm` of its value types: its JSON and CSV text filled in
        from templates worked out once per form, its values turned into text by functions chosen once per
        form (:func:`_row_form`), a run of rows of one kind at a time, column by column (:meth:`_run`): no
        Python step per record. A row no form fits (a value of another type, an empty text, a key not a
        whole number) is read as a :class:`FormedRecord` and written as one. The same bytes either way
        (tests/unit/test_export_rows.py). The rows come a chunk at a time, and a row is read as a record
        only while its chunk is the one being written (the reader's decisions are the chunk's)."""
        row_forms: dict[tuple, _RowForm | None] = {}
        count = summary.record_count  # 0: a collection's rows are all of it
        for chunk in map(iter, records.chunks):
            # In pieces of a few rows that end where progress asked to be called.
            while rows := list(islice(chunk, int(min(_ROWS_AT_ONCE, max(next_call - count, 1))))):
                self._piece(records.layout, rows, row_forms, summary, formed, spools, record_start, where)
                count = summary.record_count
                if count >= next_call:
                    next_call = _called(progress, count)
                self._text.written()
                for spool in spools.values():
                    spool.written()
        for form in row_forms.values():
            if form is not None and form.count:
                formed[form.shape] += form.count
        return next_call

    def _piece(self, layout: RowLayout, rows: list[Sequence[Any]], row_forms: dict[tuple, _RowForm | None],
               summary: CollectionSummary, formed: Counter[tuple], spools: dict[str, _Spool], record_start: str,
               where: str) -> None:
        """Write ``rows`` (of one chunk) a run of rows of one kind at a time, the first of a kind validated."""
        read = layout.read
        values = list(map(layout.values_of, rows))
        kinds = list(map(tuple, map(map, repeat(type), values)))
        if layout.flagged:  # the variant itself, not its type
            kinds = [k[:-1] + v[-1:] for k, v in zip(kinds, values, strict=True)]
        start = 0
        for (kind, empty), run in groupby(zip(kinds, map(operator.contains, values, repeat("")), strict=False)):
            end = start + len(list(run))
            form = row_forms.get(kind, False)
            if form is False:
                form = row_forms[kind] = self._row_form(layout, kind, record_start, summary.header)
            if form is not None and not empty and form.shape is None:
                # Its first record: validated and summed up as a FormedRecord's is.
                key = {layout.key_name: values[start][0]}
                if form.flags and not all([self.review.first_of_form({**flag, "key": key})
                                           for flag, _withheld in form.flags]):
                    form = row_forms[kind] = None  # every flag validated from now: as records
                else:
                    form.shape = self._shape_of(read(rows[start]), summary, formed, where)
                    form.csv = [((spools.get(category) or spools.setdefault(category, self._spool(category))
                                  ).parts.append, line) for category, line in form.csv]
            if form is None or empty:
                for row in rows[start:end]:
                    self._formed(read(row), summary, formed, spools, record_start, where)
                    summary.record_count += 1
            else:
                self._run(form, rows[start:end], values[start:end], summary, read)
            start = end

    def _run(self, form: _RowForm, rows: list[Sequence[Any]], values: list[tuple], summary: CollectionSummary,
             read: Callable[[Sequence[Any]], FormedRecord]) -> None:
        """Write rows of one kind whose form has been validated: each value column turned into its texts by
        its form's function, then the records, CSV rows and flags filled in from the columns at once."""
        keys = list(map(int.__repr__, map(itemgetter(0), values)))
        columns = list(zip(*map(form.values, values), strict=True))
        text = form.json.fill([keys, *map(list, map(map, form.json_texts, columns))])
        self._text.parts.append(text if summary.record_count else text[2:])  # ", " before all but the first
        cells = [keys, *map(list, map(map, form.csv_texts, columns))]
        for append, line in form.csv:
            append(line.fill(cells))
        if form.flags:
            self.review.add_texts(form.flags_text.fill([keys]), len(keys), [withheld for _flag, withheld in form.flags])
        form.count += len(keys)
        sample = summary.sample
        if len(sample) < SAMPLE_SIZE:
            sample.extend(read(row).as_dict() for row in rows[:SAMPLE_SIZE - len(sample)])
        summary.record_count += len(keys)

    def _shape_of(self, record: FormedRecord, summary: CollectionSummary, formed: Counter[tuple], where: str):
        """The shape of ``record``: validated and summed up when it is the first of its shape (its count is the
        caller's: one per record, or a kind of row's at the end of the collection)."""
        values = record.values
        shape = (tuple([type(v) for v in record.key.values()]), tuple([(f, type(v)) for f, v in values]))
        if shape not in formed:
            self.schema.check_formed(shape, record.as_dict, f"data.json {where} record {summary.record_count + 1}")
            self._first_of_shape(values, summary)
            formed[shape] += 0
        return shape

    @staticmethod
    def _row_form(layout: RowLayout, kinds: tuple, record_start: str, header: dict[str, Any]) -> _RowForm | None:
        """The :class:`_RowForm` of rows whose values are of ``kinds`` (the key's first; with flagged fields,
        the row's variant last), or None: a key that is not one whole number, a value of a type it has no
        text for, or a row whose variant is None. Column 0 of its templates is the key's text, column ``n``
        the text of the ``n``-th value shown."""
        fields = layout.fields
        if layout.flagged:
            variant, kinds = kinds[-1], kinds[:-1]
            if variant is None:
                return None
            fields = list(fields)
            for at, decided in zip(layout.flagged, variant, strict=True):
                if decided is not None:
                    fields[at] = decided
        if layout.key_name is None or kinds[0] is not int or not all(k in _ROW_TEXTS for k in kinds[1:]):
            return None
        form = _RowForm()
        shown: list[int] = []
        lines: dict[str, _Template] = {}
        key_json = '"key": {' + encode_basestring(layout.key_name) + ": "
        record = form.json
        record.add(", {" + key_json)
        record.hole(0)
        record.add('}, "fields": [')
        for (field_form, withheld), kind, at, cell_text in zip(fields, kinds[1:], range(1, len(kinds)),
                                                               layout.cell_texts, strict=True):
            if kind is _NONE:
                continue  # no value: not in the record
            if field_form.flag is not None:  # listed for review with its decision, as _formed lists it
                decision, reason = field_form.flag
                flag = {"source": header["source"], "collection": header["collection"], "key": None,
                        "field": field_form.name, "decision": decision, "reason": reason}
                if not decision:
                    return None  # undecided: never written from a row
                before, _null, after = _JSON_TEXT.encode(flag).partition('"key": null, ')
                form.flags_text.add(", " + before + key_json)
                form.flags_text.hole(0)
                form.flags_text.add("}, " + after)
                form.flags.append((flag, (flag["source"], flag["collection"], flag["field"], decision, reason or "")
                                   if decision in ("redact", "withhold") else None))
            record.add(field_form.prefix if record.pieces[-1].endswith("[") else ", " + field_form.prefix)
            line = lines.setdefault(field_form.category, _Template())
            line.add(record_start + layout.key_name + "=")
            line.hole(0)
            line.add("," + field_form.csv_name)
            if withheld:  # null in data.json, an empty cell in the CSV
                record.add("null")
            else:
                json_text, csv_text, quoted = _ROW_TEXTS[kind]
                form.json_texts.append(json_text)
                form.csv_texts.append(cell_text if kind is str else csv_text)
                shown.append(at)
                record.add('"' if quoted else "")
                record.hole(len(shown))
                record.add('"' if quoted else "")
                line.hole(len(shown))
            record.add(field_form.suffix)
            line.add(field_form.csv_tail)
        record.add("]}")
        form.values = _picker(shown)
        form.csv = list(lines.items())
        return form

    def _rows(self, header: dict[str, Any], record: dict[str, Any], summary: CollectionSummary) -> None:
        key = csv_cell(_key_text(record["key"]))
        source, collection = csv_cell(header["source"]), csv_cell(header["collection"])
        in_record: set[str] = set()
        for fld in record["fields"]:
            category = fld.get("category") or OTHER_CATEGORY
            if fld["name"] not in summary.fields_seen:
                summary.fields_seen[fld["name"]] = {**fld, "value": None}
            summary.categories.update(fld["categories"])
            counts = summary.category_counts.setdefault(category, [0, 0])
            counts[1] += 1
            if category not in in_record:
                in_record.add(category)
                counts[0] += 1
            if fld.get("recipient"):
                summary.recipients.setdefault((fld["name"], fld["recipient"]["id"]), set()).add(
                    fld["recipient"]["name"])
            if fld.get("review_third_parties"):
                decided = fld.get("redaction") or {}
                self.review.add({"source": header["source"], "collection": header["collection"],
                                 "key": record["key"], "field": fld["name"],
                                 "decision": decided.get("decision"), "reason": decided.get("reason")})
            self._spool(category).write(csv_line((
                source, collection, key, csv_cell(fld["name"]), csv_cell(fld["value"]), " ".join(fld["categories"]),
                csv_cell(fld.get("provided")), csv_cell(fld.get("withheld", False)))))

    def _first_of_shape(self, values: list[tuple[FieldForm, Any]], summary: CollectionSummary) -> None:
        """What the first record of a combination of forms adds to the summary, in the order :meth:`_rows`
        adds it for a dict (its counts are added per combination at the end of the collection)."""
        for form, _value in values:
            if form.name not in summary.fields_seen:
                summary.fields_seen[form.name] = dict(form.entry)
            summary.categories.update(form.entry["categories"])
            summary.category_counts.setdefault(form.category, [0, 0])

    def _spool(self, category: str) -> _Spool:
        """The CSV file of ``category``, begun with its header row. Its rows are written as :func:`csv_line`
        puts them together, not through a :func:`csv.writer`, which holds a 128 KB buffer for its row from its
        first row on: nine of them were 1.1 MB of the export's peak (issue 15, item 4)."""
        spool = self._csv.get(category)
        if spool is None:
            spool = self._csv[category] = _Spool()
            spool.write(csv_line(CSV_COLUMNS))
        return spool

    def close_data(self, rest: dict[str, Any]) -> FileEntry:
        """End data.json with ``rest`` (the access or portability part), check the document without its
        records against the schema, and copy the CSVs into the ZIP. Where ``rest`` holds :attr:`review`,
        its flags are written there; the document is checked with one flag of each shape in their place."""
        skeleton = {**self.head, "collections": [{**s.header, "records": []} for s in self.summaries],
                    **_with_review(rest, self.review, self.review.examples())}
        self.schema.check_document(skeleton)
        marker = f"\x00review-{id(self.review)}\x00"  # escaped by json.dumps: never in its text but here
        text = "" if not rest else ", " + json.dumps(_with_review(rest, self.review, [marker]),
                                                     ensure_ascii=False)[1:-1]
        before, placed, after = text.partition(json.dumps([marker]))
        self._emit("]" + before)
        if placed:
            self._emit("[")
            self._text.flush()
            for block in self.review.blocks():
                self._data.write(block)
            after = "]" + after
        self._emit(after + "}")
        self._text.flush()
        self._entry.close()
        self.review.close()
        entry = FileEntry("data.json", self._data.digest.hexdigest(), self._data.size, "application/json")
        self.files.append(entry)
        for category in sorted(self._csv):
            handle = self._csv.pop(category)
            with self.zip.open(f"csv/{category}.csv", "w", force_zip64=True) as out:
                sink = _HashingSink(out)
                sink.write("\ufeff".encode())  # so spreadsheet programs read é and ë as UTF-8
                for block in handle.blocks():
                    sink.write(block)
            handle.close()
            self.files.append(FileEntry(f"csv/{category}.csv", sink.digest.hexdigest(), sink.size, "text/csv"))
        return entry

    # -- the other files and the manifest --------------------------------------------------------------

    def add_file(self, path: str, data: bytes, media_type: str) -> FileEntry:
        self.zip.writestr(path, data)
        entry = FileEntry(path, hashlib.sha256(data).hexdigest(), len(data), media_type)
        self.files.append(entry)
        return entry

    @property
    def record_count(self) -> int:
        return sum(s.record_count for s in self.summaries)

    def finish(self) -> Built:
        """Write manifest.json (every other file with its SHA-256 and size) and close the ZIP."""
        manifest = {
            "format": "dsr-export-manifest", "schema": self.schema.id, "schema_version": self.schema.version,
            "case_reference": self.head["case_reference"], "kind": self.head["kind"],
            "generated_at": self.head["generated_at"], "record_count": self.record_count,
            "files": [f.as_dict() for f in self.files],
        }
        self.schema.check_manifest(manifest)
        self.zip.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
        self.zip.close()
        return Built(files=list(self.files), record_count=self.record_count, manifest=manifest)

    def abort(self) -> None:
        """Drop the temporary CSV files (the caller removes the half-written ZIP)."""
        for handle in self._csv.values():
            handle.close()
        self._csv.clear()
        self.review.close()
        for closing in (self._entry.close, self.zip.close):
            try:
                closing()
            except (ValueError, OSError, zipfile.BadZipFile):
                pass


_NEVER = float("inf")


def _called(progress: Callable[[int], int | None], count: int) -> int | float:
    """Call ``progress(count)``; the record count at which to call it next."""
    after = progress(count)
    return count + 1 if after is None else after


def _with_review(value: Any, review: ReviewFlags, items: list[Any]) -> Any:
    """``value`` with ``items`` where it holds ``review`` (in dicts and lists; the rest is shared)."""
    if value is review:
        return items
    if type(value) is dict:
        return {k: _with_review(v, review, items) for k, v in value.items()}
    if type(value) is list:
        return [_with_review(v, review, items) for v in value]
    return value
