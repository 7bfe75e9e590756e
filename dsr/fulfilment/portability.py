"""The data a subject may take with them (GDPR Art. 20; issue 4, item 9), selected from a confirmed lookup.

Art. 20(1) covers only data the subject *provided* (the data map's ``provided`` flag: what they filled in)
and, as the Article 29 Working Party reads "provided by" (WP242 rev.01, III.1), data *observed* from their
use of the service (``observed``: the last login, how and when consent was given), not what Harmony
inferred or generated (call recordings, computed invoice amounts, incidents), and only where the processing
rests on consent or a contract (Art. 20(1)(a), :attr:`Collection.portable`).

:func:`select_portable` re-reads each found record by its primary key through read-only engines, as
:func:`dsr.fulfilment.access.compile_access` does, and returns the portable fields grouped per collection,
with what was left out and why. Nothing is written, neither to the sources nor here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.cases.models import Case
from dsr.datamap.sources import Collection, Source, SourceKind, load_sources
from dsr.domain.enums import LookupMatch
from dsr.fulfilment.access import plain_value, read_wanted
from dsr.fulfilment.models import Lookup

NOT_PROVIDED = "not_provided"
OTHER_LEGAL_BASIS = "other_legal_basis"


@dataclass
class PortableValue:
    field: str
    value: Any
    categories: list[str]
    observed: bool = False  # observed from the subject's use of the service rather than typed in (WP242)


@dataclass
class PortableRecord:
    key: dict[str, Any]
    values: list[PortableValue]


@dataclass
class PortableCollection:
    source: str
    source_name: str
    collection: str
    legal_basis: str
    records: list[PortableRecord]
    missing: int = 0  # found by the lookup, gone from the source since


@dataclass
class Exclusion:
    """A field, or a whole collection (``field`` None), left out of the portable data, and why."""

    source: str
    collection: str
    field: str | None
    reason: str  # NOT_PROVIDED or OTHER_LEGAL_BASIS
    legal_basis: str | None = None


@dataclass
class PortableData:
    case_reference: str
    lookup_id: int
    confirmed_at: str | None
    collections: list[PortableCollection]
    excluded: list[Exclusion] = field(default_factory=list)

    @property
    def record_count(self) -> int:
        return sum(len(c.records) for c in self.collections)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON types only (dates as ISO strings)."""
        return plain_value(asdict(self))


def select_portable(case: Case, lookup: Lookup, *, sources: Mapping[str, Source] | None = None,
                    engines: Mapping[str, sa.Engine] | None = None) -> PortableData:
    """The portable data of the confirmed ``lookup`` of ``case`` (Art. 20(1)).

    Refuses (``RuleViolation``) a lookup staff have not confirmed as this person's. Reads through read-only
    engines (``engines`` by source key, else opened from the app's config and closed after).
    """
    if lookup.case_id != case.id:
        raise InvalidInput(_("This search belongs to another case."), "lookup_id")
    if lookup.match != LookupMatch.CONFIRMED:
        raise RuleViolation(_("Confirm that the records found are this person's before selecting their data."))
    sources = load_sources(current_app.config) if sources is None else sources

    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in lookup.records:
        found.setdefault((record.source, record.collection), []).append(record.primary_key)

    chosen, excluded = portable_plan(sources, found)
    wanted = {key: found[key] for key in chosen}

    rows = read_wanted(sources, wanted, engines)
    collections = [_collection(sources[s], sources[s].collection(c), rows[(s, c)], len(wanted[(s, c)]))
                   for s, c in wanted]
    return PortableData(
        case_reference=case.reference, lookup_id=lookup.id,
        confirmed_at=lookup.confirmed_at.isoformat() if lookup.confirmed_at else None,
        collections=collections, excluded=excluded)


def portable_plan(sources: Mapping[str, Source],
                  found: Iterable[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[Exclusion]]:
    """Which of the ``found`` (source, collection) pairs are read for the portable data, and what is left
    out and why: a collection not on consent or contract (Art. 20(1)(a)), a field the subject did not
    provide. Decided from the data map alone, before any record is read."""
    excluded: list[Exclusion] = []
    wanted: list[tuple[str, str]] = []
    for s, c in found:
        source = sources.get(s)
        if source is None or source.kind is not SourceKind.SQL:
            continue
        coll = source.collection(c)
        basis = coll.legal_basis.value if coll.legal_basis else None
        if not coll.portable:
            excluded.append(Exclusion(s, c, None, OTHER_LEGAL_BASIS, basis))
            continue
        excluded += [Exclusion(s, c, f.name, NOT_PROVIDED, basis) for f in coll.fields
                     if not _portable(f) and not f.technical]
        if any(_portable(f) for f in coll.fields):
            wanted.append((s, c))
    return wanted, excluded


def portable_record(coll: Collection, row: Mapping[str, Any]) -> PortableRecord:
    """The fields of one record the subject provided, or that were observed from their use of the service,
    and that hold a value."""
    values = [PortableValue(field=f.name, value=plain_value(row.get(f.name)), categories=list(f.categories),
                            observed=f.observed and not f.provided)
              for f in coll.fields if _portable(f) and row.get(f.name) not in (None, "")]
    return PortableRecord(key={k: plain_value(row[k]) for k in coll.primary_key}, values=values)


def _portable(fld) -> bool:
    """Provided by the subject, or observed from their use of the service (WP242); never a technical key."""
    return (fld.provided or fld.observed) and not fld.technical


def _collection(source: Source, coll: Collection, rows: list[dict], expected: int) -> PortableCollection:
    records = [portable_record(coll, row) for row in rows]
    return PortableCollection(source=source.key, source_name=source.name, collection=coll.name,
                              legal_basis=coll.legal_basis.value, records=records, missing=expected - len(rows))
