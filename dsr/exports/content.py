"""What goes into an export, read collection by collection from Harmony's systems and written as it comes.

The same reading and the same rules as the access preview and the portability selection
(:mod:`dsr.fulfilment.access`, :mod:`dsr.fulfilment.portability`), but never all at once: the keys of the
records a lookup found are paged out of dsr's database (:func:`found_keys`), the records are read again
from their system a chunk at a time (:func:`dsr.fulfilment.access.iter_records`), and each one is handed
to the ZIP writer (:class:`dsr.exports.build.ExportWriter`) and dropped.

The Art. 15 answer around the data (categories, purposes, recipients) follows from which fields held a
value, not from the values; :func:`_digest` gives :func:`dsr.fulfilment.access.assemble_access` one
entry per kind of value found in a collection instead of its records.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from itertools import islice
from json.encoder import encode_basestring
from typing import Any, BinaryIO

import sqlalchemy as sa
from flask_babel import gettext as _

from dsr.cases.errors import RuleViolation
from dsr.cases.models import Case
from dsr.datamap import lookup as datamap_lookup
from dsr.datamap.sources import Source, SourceKind, load_sources
from dsr.domain.retention_rules import load_rules
from dsr.exports.build import (
    Built,
    CollectionSummary,
    ExportWriter,
    FieldForm,
    FormedRecord,
    ReviewFlags,
    RowLayout,
)
from dsr.exports.models import ExportKind
from dsr.exports.overview import render_overview_apart
from dsr.exports.schema import FORMAT, ExportSchema
from dsr.extensions import db
from dsr.fulfilment import redaction
from dsr.fulfilment.access import (
    FieldValue,
    RecordData,
    assemble_access,
    collection_data,
    field_plan,
    iter_records,
    left_out,
    plain_value,
    record_reader,
    row_chunks,
)
from dsr.fulfilment.models import FoundRecord, Lookup
from dsr.fulfilment.portability import portable_plan, portable_record
from dsr.fulfilment.statement import Statement, load_statement

KEY_PAGE = 500
DECISION_CHUNK = 500  # records whose decisions are read at a time
# An SQLite source's page cache while its rows are read for an export: each chunk of keys is read once, in key
# order, so SQLite's default 2 MB held pages that were not read again, and they stayed to the end of the export
# at the top of the worker's peak (1.7 MB of it at 200,000 records: issue 15, item 4).
SOURCE_PAGE_CACHE_KIB = 256
SUBJECT_FIELDS = ("name", "email", "customer_number", "policy_number", "date_of_birth", "postcode")

# (records written so far, records expected) -> how many written when it wants to be called next (None: after
# the next record)
Progress = Callable[[int, int], int | None]


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def subject_identities(case: Case) -> dict[str, Any]:
    """The identities the case holds for its subject, and only those (nothing from the sources)."""
    subject = case.subject
    values = {name: plain_value(getattr(subject, name, None)) for name in SUBJECT_FIELDS}
    return {k: v for k, v in values.items() if v not in (None, "")}


def found_collections(lookup: Lookup) -> list[tuple[tuple[str, str], int, tuple[int, int]]]:
    """Each (source, collection) the lookup found records in, in the order found, with how many and the
    first and last id of their rows."""
    rows = db.session.execute(
        sa.select(FoundRecord.source, FoundRecord.collection, sa.func.count(), sa.func.min(FoundRecord.id),
                  sa.func.max(FoundRecord.id))
        .where(FoundRecord.lookup_id == lookup.id)
        .group_by(FoundRecord.source, FoundRecord.collection)
        .order_by(sa.func.min(FoundRecord.id))).all()
    return [((source, collection), count, (first, last)) for source, collection, count, first, last in rows]


def found_keys(lookup: Lookup, source: str, collection: str, ids: tuple[int, int]) -> Iterator[dict[str, Any]]:
    """The primary keys of the records the lookup found in one collection, whose rows' ids are in ``ids``
    (its first and last, :func:`found_collections`), a page at a time (keyset paging on the row id: no ORM
    objects, nothing kept). A page's keys are read as their JSON text and decoded at once, as one JSON list,
    not one by one through the column's type (issue 15, item 4). The pages start at the collection's first
    row and end at its last, not at the lookup's (the index is the lookup's: a page past the collection's
    last row read every later row of the lookup to find none)."""
    first, upto = ids
    last = first - 1
    query = (sa.select(FoundRecord.id, sa.cast(FoundRecord.primary_key, sa.Text))  # made once, the page's
             .where(FoundRecord.lookup_id == lookup.id, FoundRecord.source == source,  # start bound per page
                    FoundRecord.collection == collection, FoundRecord.id > sa.bindparam("last"),
                    FoundRecord.id <= upto)
             .order_by(FoundRecord.id).limit(KEY_PAGE))
    while True:
        page = db.session.connection().execute(query, {"last": last}).all()  # plain rows: no ORM result
        if not page:
            return
        last = page[-1][0]
        texts = [text for _id, text in page]
        if None in texts:  # not written so (the column is not nullable); decoded one by one if it were
            yield from (None if text is None else json.loads(text) for text in texts)
        else:
            yield from json.loads("[" + ",".join(texts) + "]")


def _access_record(record: RecordData) -> dict[str, Any]:
    return {"key": record.key, "fields": [_access_field(v) for v in record.values]}


def _access_field(v: FieldValue) -> dict[str, Any]:
    entry = {"name": v.field, "categories": v.categories, "value": v.value, "category": v.statement_category,
             "provided": v.provided, "withheld": v.withheld, "review_third_parties": v.review_third_parties}
    if v.recipient and v.recipient_name:
        entry["recipient"] = {"id": v.recipient, "name": v.recipient_name}
    if v.redaction:
        entry["redaction"] = dict(v.redaction)
    return entry


def _access_reader(source: Source, coll, statement: Statement, language: str,
                   known) -> Callable[[Mapping[str, Any]], dict[str, Any] | FormedRecord]:
    """How a row of ``coll`` is written in the access copy: what ``_access_record(_reviewed(read(row)))``
    gives, as a :class:`FormedRecord` (each field's entry worked out once) unless one of its values names a
    recipient (that entry differs per record: the dict is built). A value flagged for review (Art. 15(4))
    is released under its decision as :func:`_reviewed` does; its entry is worked out once per decision."""
    read = record_reader(source, coll, statement, language)
    plan = []
    for fld, label, withheld, category in field_plan(coll, statement, language):
        entry = {"name": fld.name, "categories": list(fld.categories), "value": None, "category": category,
                 "provided": fld.provided, "withheld": withheld, "review_third_parties": fld.third_parties}
        how = _PER_RECORD if fld.recipient is not None else (entry, label, {}) if fld.third_parties else None
        plan.append((fld.name, FieldForm(entry), withheld, how))
    key = coll.primary_key

    def formed(row: Mapping[str, Any]) -> dict[str, Any] | FormedRecord:
        values = []
        for name, form, withheld, how in plan:
            value = row.get(name)
            if value is None or value == "":
                continue
            if how is not None:
                if how is _PER_RECORD:
                    return _access_record(_reviewed(source, coll, read(row), known, language))
                entry, label, forms = how
                value, note = _released(source, coll, {k: plain_value(row[k]) for k in key}, name,
                                        None if withheld else plain_value(value), known, language, label)
                values.append((_decided_form(forms, entry, tuple(note.items())), value))
                continue
            if withheld:
                value = None
            elif type(value) is not str and type(value) is not int:
                # A date (a payment's day) is most of the rest: as plain_value writes it, without its checks.
                value = value.isoformat() if type(value) is date or type(value) is datetime else plain_value(value)
            values.append((form, value))
        return FormedRecord({k: row[k] if type(row[k]) is int else plain_value(row[k]) for k in key}, values)

    # No field naming a recipient: the writer may write a row's record straight from the row
    # (:class:`dsr.exports.build.RowLayout`); the values flagged for review, if any, under their decisions
    # as :func:`_released_rows` reads them a chunk of rows at a time.
    if all(how is not _PER_RECORD for _name, _form, _withheld, how in plan):
        names = [f.name for f in coll.fields]
        flagged = [n for n, (_name, _form, _withheld, how) in enumerate(plan) if how is not None]
        width = len(names)
        formed.layout = RowLayout(names, list(key), [(names.index(name), form, withheld)
                                                     for name, form, withheld, _how in plan],
                                  (lambda row: formed(dict(zip(names, row[:width], strict=True)))) if flagged
                                  else (lambda row: formed(dict(zip(names, row, strict=True)))), flagged)
        formed.flagged = [(names.index(plan[n][0]), plan[n][0], plan[n][2], plan[n][3]) for n in flagged]
    return formed


def _released_rows(chunks: Iterator[Iterable[Sequence[Any]]], lookup: Lookup, source: Source, coll, known: dict,
                   flagged: list[tuple[int, str, bool, tuple]], language: str) -> Iterator[Iterator[tuple]]:
    """The rows of a collection with values flagged for review (Art. 15(4)), a chunk at a time, each with what
    :class:`RowLayout` reads after its columns: per flagged field its value as released, then the row's
    variant (per flagged field ``(form, withheld)`` under its decision, or None where it holds no value).
    The decisions are read a chunk of rows at a time (into ``known``, which the reader uses for the rows
    of the chunk it writes as records) and checked in bulk against each value's HMAC; a row with a value no
    decision stands for (or of a type the decision is not checked on here) gets the variant None and is
    written as a record by the reader, which refuses it (:func:`_released`). What :func:`_access_reader`'s
    record of the row gives, byte for byte (tests/unit/test_export_rows.py)."""
    names = [f.name for f in coll.fields]
    key_at = [(k, names.index(k)) for k in coll.primary_key]
    digest = redaction.value_digester()
    released_note = redaction.released_note
    variants: dict[tuple, tuple] = {}
    s, c = source.key, coll.name

    def released(chunk: list[Sequence[Any]], keys: list[str]) -> Iterator[tuple]:
        for row, key in zip(chunk, keys, strict=True):
            shown, notes = [], []
            for at, name, withheld, _how in flagged:
                value = row[at]
                if value is None or value == "":
                    shown.append(None)
                    notes.append(None)
                    continue
                if type(value) is not str and type(value) is not int:
                    notes = None  # written as a record
                    break
                value = None if withheld else value
                decision = known.get((s, c, key, name))
                if decision is None or not decision.decided or decision.value_digest != digest(value):
                    notes = None  # undecided: the reader refuses it
                    break
                value, note = released_note(value, decision, language)
                decided = tuple(note.items())
                notes.append((decided, value is None))
                shown.append(0 if value is None else value)  # a withheld value is written as null
            if notes is None:
                yield (*row, *(None for _f in flagged), None)
                continue
            notes = tuple(notes)
            variant = variants.get(notes)
            if variant is None:
                variant = variants[notes] = tuple(
                    None if note is None else (_decided_form(forms, entry, note[0]), note[1])
                    for (_at, _name, _withheld, (entry, _label, forms)), note in zip(flagged, notes, strict=True))
            yield (*row, *shown, variant)

    keys_of = _row_keys(key_at)
    for rows in chunks:
        chunk = list(rows)
        keys = keys_of(chunk)
        known.clear()
        known.update(redaction.decided_values(lookup, s, c, keys))
        yield released(chunk, keys)  # iterated before the next chunk's decisions are read
    known.clear()


def _row_keys(key_at: list[tuple[str, int]]) -> Callable[[list[Sequence[Any]]], list[str]]:
    """The keys of rows as :func:`dsr.fulfilment.redaction.key_text` writes them (how a decision names its
    record), the key's columns at ``key_at``. A key of one whole number is written as its text between
    ready-made pieces (``{"id":812}``), not through a dict and the JSON encoder per row (issue 15, item 4)."""
    key_text = redaction.key_text

    def texts(rows: list[Sequence[Any]]) -> list[str]:
        return [key_text({k: plain_value(row[at]) for k, at in key_at}) for row in rows]

    if len(key_at) != 1:
        return texts
    name, at = key_at[0]
    before = "{" + encode_basestring(name) + ":"

    def whole_numbers(rows: list[Sequence[Any]]) -> list[str]:
        values = [row[at] for row in rows]
        if not all(type(v) is int for v in values):
            return texts(rows)
        return [before + text + "}" for text in map(int.__repr__, values)]

    return whole_numbers


def _decided_form(forms: dict, entry: dict[str, Any], decided: tuple) -> FieldForm:
    """The form of a flagged field's entry under a decision (its note's items), made once per decision."""
    if decided not in forms:
        forms[decided] = FieldForm({**entry, "redaction": dict(decided)})
    return forms[decided]


_PER_RECORD = object()  # a field whose entry is built per record (it names a recipient)


def _decided_in_chunks(rows: Iterator[dict[str, Any]], lookup: Lookup, source: Source, coll,
                       known: dict) -> Iterator[dict[str, Any]]:
    """``rows`` as they come, with ``known`` holding the privacy manager's decisions on the chunk of them
    being written (Art. 15(4)): a subject with 20,000 call recordings does not need all their decisions
    in memory at once."""
    while chunk := list(islice(rows, DECISION_CHUNK)):
        keys = [redaction.key_text({k: plain_value(row[k]) for k in coll.primary_key}) for row in chunk]
        known.clear()
        known.update(redaction.decided_values(lookup, source.key, coll.name, keys))
        yield from chunk
    known.clear()


def _reviewed(source: Source, coll, record: RecordData, known, language: str) -> RecordData:
    """The record as released (Art. 15(4)): each flagged value under the privacy manager's decision. A flagged
    value without one stops the export: nothing is released unreviewed (issue 18, item 4)."""
    for v in record.values:
        if v.review_third_parties:
            shown, note = _released(source, coll, record.key, v.field, v.value, known, language, v.label)
            v.value, v.released, v.redaction = shown, shown, note
    return record


def _released(source: Source, coll, key: dict[str, Any], field: str, value: Any, known, language: str,
              label: str) -> tuple[Any, dict[str, Any]]:
    """One flagged value as released and its redaction note; :class:`RuleViolation` when it is undecided."""
    shown, note = redaction.apply(source.key, coll.name, key, field, value, known, language)
    if note is None:
        raise RuleViolation(_("A value that may hold other people's data (%(where)s) is not decided by the "
                              "privacy manager: decide it in the access preview, then make the export "
                              "again.", where=f"{coll.display_name(language)}: {label}"))
    return shown, note


def _digest(summary: CollectionSummary) -> list[RecordData]:
    """One stand-in record holding one value-less entry per field that held a value: what the answer's
    categories and purposes are derived from (:func:`dsr.fulfilment.access.assemble_access`)."""
    if not summary.record_count:
        return []
    named = [FieldValue(field=name, label=name, value=None, categories=[], statement_category=None,
                        provided=False, recipient=rid, recipient_name=who)
             for (name, rid), names in summary.recipients.items() for who in sorted(names)]
    return [RecordData(key={}, values=[
        FieldValue(field=f["name"], label=f["name"].replace("_", " "), value=None, categories=f["categories"],
                   statement_category=f.get("category"), provided=bool(f.get("provided")),
                   withheld=bool(f.get("withheld")), review_third_parties=bool(f.get("review_third_parties")))
        for f in summary.fields_seen.values()] + named)]


def _header(source: Source, coll, language: str) -> dict[str, Any]:
    """A collection's heading in the export: keys for machines, names in the subject's language for people."""
    return {"source": source.key, "source_name": source.display_name(language), "collection": coll.name,
            "label": coll.display_name(language),
            "legal_basis": coll.legal_basis.value if coll.legal_basis else None, "purposes": list(coll.purposes),
            "left_out": left_out(coll, language)}


def write_export(target: BinaryIO, *, case: Case, lookup: Lookup, kind: ExportKind, language: str,
                 now: datetime, config: Mapping[str, Any], progress: Progress | None = None,
                 schema: ExportSchema | None = None) -> Built:
    """Write the export ZIP of ``case``'s confirmed ``lookup`` to ``target``; returns its files and manifest.

    Reads every record afresh, read-only, through engines opened here and disposed of after.
    """
    schema = schema or ExportSchema()
    sources = load_sources(config)
    statement = load_statement()
    found = [(key, n, ids) for key, n, ids in found_collections(lookup)
             if key[0] in sources and sources[key[0]].kind is SourceKind.SQL]
    excluded = []
    if kind is ExportKind.PORTABILITY:
        chosen, excluded = portable_plan(sources, [key for key, _n, _ids in found])
        found = [(key, n, ids) for key, n, ids in found if key in chosen]
    total = sum(n for _key, n, _ids in found)
    head = {"format": FORMAT, "version": schema.version, "kind": kind.value, "case_reference": case.reference,
            "generated_at": utc_stamp(now), "language": language, "controller": statement.controller,
            "subject": subject_identities(case),
            "lookup": {"id": lookup.id, "confirmed_at": utc_stamp(lookup.confirmed_at) if lookup.confirmed_at
                       else None}}
    engines = datamap_lookup.readonly_engines({sources[s].key: sources[s] for (s, _c), _n, _ids in found}.values(),
                                              config, page_cache_kib=SOURCE_PAGE_CACHE_KIB)
    writer = ExportWriter(target, head=head, schema=schema)
    try:
        done = 0
        digests = []
        rules = load_rules() if kind is ExportKind.ACCESS else None
        known: dict = {}  # the decisions on the chunk of records being written (:func:`_decided_in_chunks`)
        for (s, c), count, ids in found:
            source, coll = sources[s], sources[s].collection(c)
            header = _header(source, coll, language)
            if kind is ExportKind.ACCESS:
                retention = collection_data(source, coll, [], 0, statement, rules, language).retention
                header["retention"] = [asdict(r) for r in retention]
                read = _access_reader(source, coll, statement, language, known)
                layout = getattr(read, "layout", None)
                if layout is not None:  # each record written from its row (the same bytes)
                    chunks = row_chunks(source, coll, found_keys(lookup, s, c, ids), engines[s])
                    if layout.flagged:
                        chunks = _released_rows(chunks, lookup, source, coll, known, read.flagged, language)
                    records = layout.rows(chunks)
                else:
                    rows = iter_records(source, coll, found_keys(lookup, s, c, ids), engines[s])
                    if any(f.third_parties for f in coll.fields):
                        rows = _decided_in_chunks(rows, lookup, source, coll, known)
                    records = (read(row) for row in rows)
            else:
                category_of = _category_of(statement)
                records = (_portable_record(portable_record(coll, row), category_of)
                           for row in iter_records(source, coll, found_keys(lookup, s, c, ids), engines[s]))
            summary = writer.collection(header, records, found=count,
                                        progress=_in_collection(progress, done, total) if progress else None)
            done += summary.record_count
            if kind is ExportKind.ACCESS:
                digests.append(collection_data(source, coll, _digest(summary), summary.header["missing"],
                                               statement, rules, language))
        rest = _rest(kind, case, lookup, digests, writer.review, excluded, language, sources, statement)
        writer.close_data(rest)
        complaint = rest["access"]["complaint"] if kind is ExportKind.ACCESS else _complaint(statement, language)
        html, pdf = render_overview_apart(
            head=head, summaries=writer.summaries, rest=rest, complaint=complaint,
            category_names={c.id: c.name[language] for c in statement.categories},
            timezone=config.get("DSR_TIMEZONE", "Europe/Amsterdam"))
        writer.add_file("overview.html", html.encode("utf-8"), "text/html")
        writer.add_file("overview.pdf", pdf, "application/pdf")
        return writer.finish()
    except BaseException:
        writer.abort()
        raise
    finally:
        for engine in set(engines.values()):
            engine.dispose()


def _in_collection(progress: Progress, base: int, total: int) -> Callable[[int], int | None]:
    """``progress`` as the writer calls it for one collection: records counted in the collection, not in all
    (``base`` written before it)."""
    def report(n: int) -> int | None:
        after = progress(base + n, total)
        return None if after is None else after - base

    return report


def _category_of(statement: Statement) -> Callable[[list[str]], str | None]:
    """The statement's category of a field's categories (its first), remembered per fideslang key."""
    known: dict[str, str | None] = {}

    def category_of(categories: list[str]) -> str | None:
        if not categories:
            return None
        if categories[0] not in known:
            category = statement.category_for(categories[0])
            known[categories[0]] = category.id if category else None
        return known[categories[0]]

    return category_of


def _portable_record(record, category_of: Callable[[list[str]], str | None]) -> dict[str, Any]:
    return {"key": record.key, "fields": [
        {"name": v.field, "categories": v.categories, "value": v.value, "category": category_of(v.categories),
         "provided": not v.observed, "observed": v.observed} for v in record.values]}


def _complaint(statement: Statement, lang: str) -> dict[str, Any]:
    """The complaint route for the overview of portable data (an access copy carries it in data.json)."""
    c = statement.complaint
    return {"harmony_text": c.harmony_text[lang], "harmony_email": c.harmony_email,
            "harmony_address": list(c.harmony_address), "authority_name": c.authority_name[lang],
            "authority_address": list(c.authority_address), "authority_text": c.authority_text[lang]}


def _rest(kind: ExportKind, case: Case, lookup: Lookup, digests, review: ReviewFlags, excluded,
          language: str, sources, statement: Statement) -> dict[str, Any]:
    """The part of data.json after the records: the Art. 15 information, or what Art. 20 left out."""
    if kind is ExportKind.PORTABILITY:
        return {"portability": {"excluded": [plain_value(asdict(e)) for e in excluded]}}
    content = assemble_access(case, lookup, digests, language=language, sources=sources, statement=statement)
    answer = content.as_dict()
    part = {name: answer[name] for name in ("statement_date", "categories", "purposes", "recipients",
                                            "sources_of_data", "rights", "automated_decisions", "complaint",
                                            "manual_sources")}
    part["redaction_review"] = review  # the flags as the writer kept them: it writes them here
    # "Checked by a person" only when a person did: every flagged value carries the manager's decision.
    part["redaction_checked"] = review.checked
    return {"access": part}
