"""Legal holds (issue 4, item 10): a privacy manager keeps a subject's data, or one record, from erasure.

Art. 17(3)(e): erasure does not apply where the data are needed for the establishment, exercise or defence
of legal claims (a dispute, a claim in court). A hold is placed and released by a privacy manager, each
time with a reason, and both are audited. While a hold is active, :func:`refuse_if_held` stops an erasure of
a held record outright, whatever the retention engine decided: held records are never erased.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.audit.operations import jsonable
from dsr.audit.operations import record as audit_record
from dsr.auth.models import User
from dsr.cases.census import known_empty
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.cases.guards import require_role
from dsr.cases.models import Case
from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.fulfilment.models import FoundRecord, LegalHold
from dsr.subjects.models import DataSubject
from dsr.timeutil import format_day

REASON_MAX = 2000


@dataclass(frozen=True)
class RecordRef:
    """A record in one of Harmony's systems, named as the data map names it."""

    source: str
    collection: str
    primary_key: Mapping[str, Any] = field(hash=False)

    def __post_init__(self) -> None:
        # As JSON would give it back (dates as text), so a stored key compares equal to a found one.
        object.__setattr__(self, "primary_key", json.loads(json.dumps(jsonable(dict(self.primary_key)))))

    @classmethod
    def of(cls, found: FoundRecord) -> RecordRef:
        return cls(found.source, found.collection, found.primary_key)

    @property
    def text(self) -> str:
        key = ", ".join(f"{k}={v}" for k, v in self.primary_key.items())
        return f"{self.source}/{self.collection}/{key}"

    def same_as(self, source: str | None, collection: str | None, primary_key: Mapping | None) -> bool:
        return (source, collection) == (self.source, self.collection) and primary_key is not None and \
            json.loads(json.dumps(jsonable(dict(primary_key)))) == self.primary_key


def _require_manager(actor: User | None, what) -> None:
    # A hold is a legal decision someone answers for: never placed or lifted by "the system".
    if actor is None:
        raise NotAllowed(_("Only a privacy manager may %(what)s.", what=what))
    require_role(actor, Role.PRIVACY_MANAGER, what=what)


def _reason(reason: str | None, field_name: str, missing: str) -> str:
    if not (reason or "").strip():
        raise InvalidInput(missing, field_name)
    if len(reason) > REASON_MAX:
        raise InvalidInput(_("A reason has at most %(n)d characters.", n=REASON_MAX), field_name)
    return reason


def place_hold(*, subject: DataSubject | None = None, record: RecordRef | None = None, reason: str,
               actor: User | None, now: datetime, case: Case | None = None) -> LegalHold:
    """Place a hold on all data of ``subject`` or on one ``record`` (Art. 17(3)(e)).

    Privacy manager only (NotAllowed otherwise); the reason is required. ``case`` is the case the hold was
    placed from: its history records the hold. A second active hold on the same target is refused.
    """
    _require_manager(actor, _l("place a legal hold"))
    record_ref = record
    if (subject is None) == (record_ref is None):
        raise InvalidInput(_("A hold is placed on a person or on one record."), "target")
    reason = _reason(reason, "reason", _("Give the reason for the hold (the dispute or the claim in court)."))
    if record_ref is not None and not (record_ref.source and record_ref.collection and record_ref.primary_key):
        raise InvalidInput(_("Name the record by its source, collection and key."), "target")
    existing = (_active_subject_hold(subject.id) if subject is not None
                else _active_record_hold(record_ref))
    if existing is not None:
        raise RuleViolation(_("This is already under a legal hold since %(d)s: %(reason)s",
                              d=format_day(existing.placed_at), reason=existing.reason))
    hold = LegalHold(
        subject_id=subject.id if subject is not None else None,
        source=record_ref.source if record_ref else None, collection=record_ref.collection if record_ref else None,
        primary_key=dict(record_ref.primary_key) if record_ref else None,
        case_id=case.id if case is not None else None, reason=reason, placed_by_id=actor.id, placed_at=now)
    db.session.add(hold)
    db.session.flush()
    audit_record("hold.placed", actor=actor, now=now, case=case,
           after={"hold_id": hold.id, "target": _target(hold), "reason": reason})
    return hold


def release_hold(hold: LegalHold, *, reason: str, actor: User | None, now: datetime,
                 case: Case | None = None) -> None:
    """Lift a hold, saying why (the dispute settled, the judgment final). Privacy manager only.

    ``case`` is the case it was released from (default: the one it was placed from): its history records it.
    """
    _require_manager(actor, _l("release a legal hold"))
    reason = _reason(reason, "reason", _("Say why the hold is released."))
    if hold.released_at is not None:
        raise RuleViolation(_("This hold was already released."))
    hold.released_at = now
    hold.released_by_id = actor.id
    hold.release_reason = reason
    audit_record("hold.released", actor=actor, now=now, case=case or hold.case,
           before={"hold_id": hold.id, "target": _target(hold), "reason": hold.reason},
           after={"release_reason": reason})


def _target(hold: LegalHold) -> str:
    if hold.subject_id is not None:
        return f"subject {hold.subject_id}"
    return RecordRef(hold.source, hold.collection, hold.primary_key or {}).text


def _active_subject_hold(subject_id: int) -> LegalHold | None:
    return db.session.execute(sa.select(LegalHold).where(
        LegalHold.subject_id == subject_id, LegalHold.released_at.is_(None)).order_by(LegalHold.id).limit(1)
    ).scalar_one_or_none()


def _active_record_hold(ref: RecordRef) -> LegalHold | None:
    # JSON has no portable equality in SQL; holds per collection are few, so the key is compared here.
    candidates = db.session.execute(sa.select(LegalHold).where(
        LegalHold.source == ref.source, LegalHold.collection == ref.collection,
        LegalHold.released_at.is_(None)).order_by(LegalHold.id)).scalars()
    return next((h for h in candidates if ref.same_as(h.source, h.collection, h.primary_key)), None)


def active_holds_for(record_refs: Sequence[RecordRef], subject_id: int | None) -> list[LegalHold | None]:
    """For each record, the active hold that keeps it or None: a hold on the record itself first, else
    one on its subject. Two queries however many records (erasure plans and the records page)."""
    subject_hold = _active_subject_hold(subject_id) if subject_id is not None else None
    sources = sorted({r.source for r in record_refs})
    on_records = list(db.session.execute(sa.select(LegalHold).where(
        LegalHold.source.in_(sources), LegalHold.released_at.is_(None)).order_by(LegalHold.id)).scalars()) \
        if sources else []
    return [next((h for h in on_records if ref.same_as(h.source, h.collection, h.primary_key)), subject_hold)
            for ref in record_refs]


def active_hold_for(record_ref: RecordRef, subject_id: int | None) -> LegalHold | None:
    """The active hold that keeps this record, if any: one on the record itself, or on its subject.

    Erasure asks this (or :func:`active_holds_for`) for every record before it touches it; the hold's
    reason is the retention engine's ``legal_hold`` fact (:class:`dsr.domain.retention.RecordFacts`).
    """
    return active_holds_for([record_ref], subject_id)[0]


class RecordHeld(RuleViolation):
    """An erasure reached a record under legal hold (Art. 17(3)(e)); nothing may be erased."""

    def __init__(self, record_ref: RecordRef, hold: LegalHold):
        self.record_ref, self.hold = record_ref, hold
        super().__init__(_("%(record)s is under a legal hold (%(reason)s): it is not erased.",
                           record=record_ref.text, reason=hold.reason))


def refuse_if_held(record_ref: RecordRef, subject_id: int | None) -> None:
    """The erasure guard: raise :class:`RecordHeld` if the record or its subject is under an active hold."""
    hold = active_hold_for(record_ref, subject_id)
    if hold is not None:
        raise RecordHeld(record_ref, hold)


def holds_for_case(case: Case) -> list[LegalHold]:
    """The holds a case page lists: on its subject, and those placed from the case, newest first."""
    if known_empty(case, "legal_holds"):
        return []
    return list(db.session.execute(sa.select(LegalHold).where(sa.or_(
        LegalHold.subject_id == case.subject_id, LegalHold.case_id == case.id)).order_by(
        LegalHold.released_at.is_not(None), LegalHold.id.desc())).scalars())
