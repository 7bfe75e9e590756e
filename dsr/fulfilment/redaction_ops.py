"""Reviewing other people's data in an access copy (Art. 15(4); issue 18, item 4): the flagged values of a
case's confirmed lookup read afresh, the decisions on them (audited operations), and the refusal to release
a copy while one is undecided. What a decision means and what the copy says: :mod:`dsr.fulfilment.redaction`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from dsr.audit.operations import record
from dsr.auth.models import User
from dsr.auth.roles import WRITERS
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.cases.models import Case
from dsr.datamap.lookup import readonly_engines
from dsr.datamap.sources import Source, SourceKind, load_sources
from dsr.domain.enums import LookupMatch, RedactionChoice, RedactionGround, Role
from dsr.extensions import db
from dsr.fulfilment.access import iter_records, plain_value, read_wanted
from dsr.fulfilment.models import FoundRecord, Lookup, RedactionDecision
from dsr.fulfilment.redaction import decided_values, decisions, is_reviewed, key_text, value_digest

REVIEW_CHUNK = 500  # records whose flagged values are checked at a time


@dataclass
class FlaggedValue:
    """A value of a field the data map marks ``third_parties``, as read afresh, with its decision if any."""

    source: str
    collection: str
    key: dict[str, Any]
    field: str
    value: Any
    decision: RedactionDecision | None = None

    @property
    def record_key(self) -> str:
        return key_text(self.key)

    @property
    def reviewed(self) -> bool:
        """Decided by the privacy manager, on the value as it is now."""
        return is_reviewed(self.decision, self.value)


def flagged_fields(source: Source) -> dict[str, list[str]]:
    """``{collection: [fields the data map marks third_parties]}`` of one source."""
    found = {c.name: [f.name for f in c.fields if f.third_parties] for c in source.collections}
    return {name: fields for name, fields in found.items() if fields}


def flagged_values(lookup: Lookup, *, sources: Mapping[str, Source] | None = None,
                   engines: Mapping[str, sa.Engine] | None = None) -> list[FlaggedValue]:
    """Every non-empty value of a flagged field in the records ``lookup`` found, read afresh (read-only),
    each with its decision. Only the collections that have flagged fields are read."""
    sources = load_sources(current_app.config) if sources is None else sources
    flagged = [(s.key, c) for s in sources.values() if s.kind is SourceKind.SQL for c in flagged_fields(s)]
    wanted: dict[tuple[str, str], list[dict[str, Any]]] = {}
    if flagged:  # only the keys of the records in those collections, not every record found as an object
        found = db.session.execute(
            sa.select(FoundRecord.source, FoundRecord.collection, FoundRecord.primary_key)
            .where(FoundRecord.lookup_id == lookup.id,
                   sa.tuple_(FoundRecord.source, FoundRecord.collection).in_(flagged))
            .order_by(FoundRecord.id))
        for source, collection, key in found:
            wanted.setdefault((source, collection), []).append(key)
    if not wanted:
        return []
    rows = read_wanted(sources, wanted, engines)
    known = decisions(lookup)
    result = []
    for (s, c), records in rows.items():
        coll = sources[s].collection(c)
        for row in records:
            key = {k: plain_value(row[k]) for k in coll.primary_key}
            for name in flagged_fields(sources[s])[c]:
                value = plain_value(row.get(name))
                if value in (None, ""):
                    continue
                result.append(FlaggedValue(s, c, key, name, value, known.get((s, c, key_text(key), name))))
    return result


def pending(lookup: Lookup, **kw) -> list[FlaggedValue]:
    """The flagged values not (or no longer) decided by the privacy manager."""
    return [v for v in flagged_values(lookup, **kw) if not v.reviewed]


def count_pending(lookup: Lookup, *, sources: Mapping[str, Source] | None = None,
                  engines: Mapping[str, sa.Engine] | None = None) -> int:
    """``len(pending(lookup))``, a chunk of records at a time: the records' keys are read, their flagged
    values and the decisions on them per chunk of 500 and dropped, so a subject with 20,000 call recordings
    is checked without holding every recording and decision (issue 15, item 4)."""
    sources = load_sources(current_app.config) if sources is None else sources
    flagged = {(s.key, c): names for s in sources.values() if s.kind is SourceKind.SQL
               for c, names in flagged_fields(s).items()}
    if not flagged:
        return 0
    own = engines is None
    if own:
        engines = readonly_engines({s: sources[s] for s, _c in flagged}.values(), current_app.config)
    waiting = 0
    try:
        for (s, c), names in flagged.items():
            coll = sources[s].collection(c)
            keys = db.session.execute(sa.select(FoundRecord.primary_key).where(
                FoundRecord.lookup_id == lookup.id, FoundRecord.source == s, FoundRecord.collection == c)
                .order_by(FoundRecord.id)).scalars().all()
            rows = iter_records(sources[s], coll, keys, engines[s])
            while chunk := list(islice(rows, REVIEW_CHUNK)):
                texts = [key_text({k: plain_value(row[k]) for k in coll.primary_key}) for row in chunk]
                known = decided_values(lookup, s, c, texts)
                for row, text in zip(chunk, texts, strict=True):
                    for name in names:
                        value = plain_value(row.get(name))
                        if value not in (None, "") and not is_reviewed(known.get((s, c, text, name)), value):
                            waiting += 1
    finally:
        if own:
            for engine in set(engines.values()):
                engine.dispose()
    return waiting


def require_reviewed(case: Case, lookup: Lookup, **kw) -> None:
    """Refuse (``RuleViolation``) releasing an access copy while a flagged value is undecided."""
    waiting = count_pending(lookup, **kw)
    if waiting:
        raise RuleViolation(_(
            "%(num)d value(s) that may hold other people's data (Art. 15(4)) are not yet decided by the privacy "
            "manager: release, withhold the marked passages or withhold each one in the access preview first.",
            num=waiting))


# -- deciding ----------------------------------------------------------------------------------------------


def spans_of(value: Any, passages: Iterable[str]) -> list[list[int]]:
    """The ``[start, end)`` offsets of every occurrence of each passage in ``value`` (as text), merged; a
    passage that does not occur is refused by name, so nothing the person meant to withhold slips out."""
    text = str(value)
    spans: list[list[int]] = []
    for passage in passages:
        passage = passage.strip()
        if not passage:
            continue
        start = text.find(passage)
        if start < 0:
            raise InvalidInput(_("The passage “%(passage)s” does not occur in the value: copy it exactly as "
                                 "it is written.", passage=passage[:80]), "passages")
        while start >= 0:
            spans.append([start, start + len(passage)])
            start = text.find(passage, start + 1)
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def decide(case: Case, lookup: Lookup, *, source: str, collection: str, key: Mapping[str, Any], field: str,
           choice: RedactionChoice, ground: RedactionGround | None, passages: Iterable[str] = (),
           note: str | None = None, actor: User, now: datetime,
           sources: Mapping[str, Source] | None = None,
           engines: Mapping[str, sa.Engine] | None = None) -> RedactionDecision:
    """Record ``actor``'s decision on one flagged value, read afresh: a proposal when staff make it, the
    decision when the privacy manager does (and a staff proposal the manager saves again is decided)."""
    if actor.role not in WRITERS:
        raise NotAllowed(_("Only staff and the privacy manager review other people's data in a copy."))
    if lookup.case_id != case.id:
        raise InvalidInput(_("This search belongs to another case."), "lookup_id")
    if lookup.match != LookupMatch.CONFIRMED:
        raise RuleViolation(_("Confirm that the records found are this person's before compiling their data."))
    wanted_key = key_text(key)
    target = next((v for v in flagged_values(lookup, sources=sources, engines=engines)
                   if (v.source, v.collection, v.record_key, v.field) == (source, collection, wanted_key, field)),
                  None)
    if target is None:
        raise InvalidInput(_("That value is not one to review: it is not in this person's records, or its "
                             "field is not marked as possibly holding other people's data."), "field")
    if choice is not RedactionChoice.RELEASE and ground is None:
        raise InvalidInput(_("Say why the data is withheld: choose a ground."), "ground")
    spans: list[list[int]] = []
    if choice is RedactionChoice.REDACT:
        spans = spans_of(target.value, passages)
        if not spans:
            raise InvalidInput(_("Mark the passages to withhold: one per line, exactly as written."), "passages")
    decision = target.decision or RedactionDecision(
        case_id=case.id, lookup_id=lookup.id, source=source, collection=collection, record_key=wanted_key,
        field=field)
    before = _summary(decision) if decision.id else None
    decision.value_digest = value_digest(target.value)
    decision.choice = choice
    decision.ground = None if choice is RedactionChoice.RELEASE else ground
    decision.spans = spans
    decision.note = (note or "").strip() or None
    decision.proposed_at, decision.proposed_by_id = now, actor.id
    manager = actor.role is Role.PRIVACY_MANAGER
    decision.decided_at = now if manager else None
    decision.decided_by_id = actor.id if manager else None
    if decision.id is None:
        db.session.add(decision)
    db.session.flush()
    record("redaction.decided" if manager else "redaction.proposed", actor=actor, now=now, case=case,
           before=before, after=_summary(decision))
    return decision


def _summary(decision: RedactionDecision) -> dict[str, Any]:
    """What the audit trail keeps: which value and what was decided, never the value."""
    return {"lookup_id": decision.lookup_id, "source": decision.source, "collection": decision.collection,
            "record": decision.record_key, "field": decision.field, "choice": decision.choice,
            "ground": decision.ground, "passages": len(decision.spans or []),
            "decided": decision.decided_at is not None}


# -- the preview -------------------------------------------------------------------------------------------


def preview_access(case: Case, lookup: Lookup, *, language: str, actor: User, now: datetime,
                   sources: Mapping[str, Source] | None = None):
    """The access answer as the preview shows it (values as read, each flagged one with its decision), and
    the reading audited (``access.previewed``): the page shows data read from Harmony's systems."""
    from dsr.fulfilment.access import compile_access

    content = compile_access(case, lookup, language=language, sources=sources, redact=False)
    record("access.previewed", actor=actor, now=now, case=case,
           after={"lookup_id": lookup.id, "language": language, "records": content.record_count})
    return content
