"""Reducing closed case files, and the holds that keep them (issue 18, item 8; Art. 5(1)(e)).

What a reduced file keeps: the case row's reference, rights, dates, state and refusal ground, its pauses
and identity checks without their free text, links to other cases, Art. 19 notices without notes, and the
audit events with their details replaced by tombstones (:func:`dsr.audit.operations.purge_payloads`).
Everything else the file holds about the person goes: the subject's details (the row itself once no other
case or legal hold needs it), notes, tasks, letters, exports and attachments with their files, lookups and
their found records, erasure plans, corrections, objection decisions, marketing stops and restrictions (a
file whose restriction is still in force is kept until it is lifted).

The work is table-driven (:data:`EMPTIED`, :data:`CLEARED`, :data:`KEPT`): every table that refers to a
case must be named in exactly one of them, which a test checks, so a new feature cannot add case data that
retention silently forgets.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app
from flask_babel import lazy_gettext as _l

from dsr.audit.labels import ACTION_LABELS
from dsr.audit.models import AuditEvent, AuditPayload
from dsr.audit.operations import purge_payloads, record
from dsr.casefiles.models import CaseFileHold, FileHoldKind
from dsr.cases.census import known_empty
from dsr.cases.models import Case
from dsr.domain.casefile_retention import FileDecision, KeptBy, decide
from dsr.domain.enums import CLOSED_STATES
from dsr.extensions import db
from dsr.filestore import delete_file_after_commit
from dsr.timeutil import local_date

ACTION_LABELS["casefile.reduced"] = _l("Case file reduced (dsr's own retention)")
ACTION_LABELS["casefile.hold_placed"] = _l("Case file kept: hold placed")
ACTION_LABELS["casefile.hold_released"] = _l("Case file hold released")


class CaseFileError(Exception):
    """An operation on a case file's retention that cannot be done; the message says why."""


# Tables whose rows of a reduced case are deleted, in an order the foreign keys allow. Each entry is
# (table, how its rows are found: "case_id" or (parent table, parent column, own column)).
EMPTIED: list[tuple[str, str | tuple[str, str, str]]] = [
    ("issued_letters", "case_id"),
    ("exports", "case_id"),
    ("corrections", "case_id"),
    ("restricted_records", "case_id"),
    ("restriction_grounds", "case_id"),
    ("restriction_lifts", "case_id"),
    ("case_tasks", "case_id"),
    ("case_notes", "case_id"),
    ("marketing_stops", "case_id"),
    ("objection_decisions", "case_id"),
    ("automated_decision_requests", "case_id"),  # the decision as described, the subject's view, the outcome
    ("subject_texts", "case_id"),  # texts written for the subject: reasons and decisions about the person
    ("redaction_decisions", "case_id"),  # which values of the copy were withheld, and staff's notes on them
    ("erasure_plan_items", ("erasure_plans", "id", "plan_id")),
    ("erasure_plans", "case_id"),
    ("found_records", ("lookups", "id", "lookup_id")),
    ("lookups", "case_id"),
    ("case_requesters", "case_id"),
    ("attachments", "case_id"),
    ("jobs", "case_id"),
]
# Tables whose rows stay, with their free text cleared (the text may name or describe the person).
CLEARED: dict[str, dict[str, object]] = {
    "case_pauses": {"reason": ""},
    "identity_verifications": {"note": ""},
    "recipient_notices": {"note": None},
}
# Tables whose rows stay as they are: facts about the handling, not about the person.
KEPT = frozenset({"case_rights", "case_links", "audit_events", "suppression_entries", "legal_holds",
                  "case_file_holds", "cases", "direct_transmissions", "copy_fees", "repeated_requests"})
# Files named by a storage key (dsr.filestore) in these tables' rows are deleted with them.
FILES = {"issued_letters": "storage_key", "exports": "storage_key", "attachments": "storage_key"}


@dataclass(frozen=True)
class FileStatus:
    case: Case
    closed_on: date
    decision: FileDecision


def retention_years() -> int:
    return int(current_app.config.get("CASE_FILE_RETENTION_YEARS", 2))


# -- holds ------------------------------------------------------------------------------------------------------

def place_file_hold(case: Case, kind: FileHoldKind | str, reason: str, *, actor, now: datetime) -> CaseFileHold:
    """Keep the whole case file past its period: a dispute, a court case or an open complaint about it."""
    reason = (reason or "").strip()
    if not reason:
        raise CaseFileError(str(_l("Give the reason for keeping the case file.")))
    if case.reduced_at is not None:
        raise CaseFileError(str(_l("This case file was already reduced; there is nothing left to keep.")))
    hold = CaseFileHold(case_id=case.id, kind=FileHoldKind(kind), reason=reason,
                        placed_by_id=actor.id if actor else None, placed_at=now)
    db.session.add(hold)
    db.session.flush()
    record("casefile.hold_placed", actor=actor, now=now, case=case,
           after={"hold_id": hold.id, "kind": hold.kind, "reason": reason})
    return hold


def release_file_hold(hold: CaseFileHold, reason: str, *, actor, now: datetime) -> None:
    """End a hold; the file is reduced on the next daily run if its period has passed."""
    reason = (reason or "").strip()
    if not reason:
        raise CaseFileError(str(_l("Give the reason for releasing the hold.")))
    if not hold.active:
        raise CaseFileError(str(_l("This hold was already released.")))
    hold.released_at, hold.released_by_id, hold.release_reason = now, actor.id if actor else None, reason
    record("casefile.hold_released", actor=actor, now=now, case=hold.case,
           before={"hold_id": hold.id, "kind": hold.kind}, after={"release_reason": reason})


def file_holds(case: Case) -> list[CaseFileHold]:
    if known_empty(case, "case_file_holds"):
        return []
    return list(db.session.execute(sa.select(CaseFileHold).where(CaseFileHold.case_id == case.id)
                                   .order_by(CaseFileHold.id)).scalars())


# -- what is due ------------------------------------------------------------------------------------------------

# The tables each reason of :func:`_reasons` reads, as the case page's census names them.
_KEPT_BY_TABLES = ("case_file_holds", "legal_holds", "erasure_plans", "restricted_records")


def kept_by(case: Case) -> list[KeptBy]:
    """Everything that keeps this case file whole today (one read: whether each reason holds; none on the case
    page when its census found none of the tables they read holding a row of the case: issue 15, item 3)."""
    if all(known_empty(case, table) for table in _KEPT_BY_TABLES):
        return []
    return kept_by_each([case])[0]


# Cases whose reasons one statement reads (five EXISTS each): the dashboard's ten in one, a long list in a few.
_KEPT_BY_CHUNK = 100


def kept_by_each(cases: list[Case]) -> list[list[KeptBy]]:
    """:func:`kept_by` for several cases, in one statement per hundred cases instead of one per case."""
    result: list[list[KeptBy]] = []
    for start in range(0, len(cases), _KEPT_BY_CHUNK):
        reasons = [_reasons(case.id, case.subject_id) for case in cases[start:start + _KEPT_BY_CHUNK]]
        held = iter(db.session.execute(sa.select(*(e for r in reasons for e in r.values()))).one())
        result.extend([reason for reason in r if next(held)] for r in reasons)
    return result


def _reasons(case_id, subject_id) -> dict:
    """Each reason that can keep a case file, as an EXISTS on the tables that record it: of the case
    ``case_id`` of subject ``subject_id`` (values), or of each row of a query over the cases (``Case.id`` and
    ``Case.subject_id``: correlated)."""
    from dsr.domain.enums import ErasurePlanStatus
    from dsr.domain.retention_rules import Action
    from dsr.fulfilment.models import ErasurePlan, ErasurePlanItem, LegalHold
    from dsr.restriction.models import RestrictedRecord, RestrictedStatus

    def file_hold(kind: FileHoldKind):
        return sa.exists().where(CaseFileHold.case_id == case_id, CaseFileHold.released_at.is_(None),
                                 CaseFileHold.kind == kind)

    on_subject = LegalHold.subject_id == subject_id if subject_id is not None else sa.false()
    return {
        KeptBy.FILE_HOLD: file_hold(FileHoldKind.LEGAL_HOLD),
        KeptBy.COMPLAINT: file_hold(FileHoldKind.COMPLAINT),
        KeptBy.RECORD_HOLD: sa.exists().where(LegalHold.released_at.is_(None),
                                              sa.or_(LegalHold.case_id == case_id, on_subject)),
        KeptBy.SCHEDULED_ERASURE: sa.exists().where(
            ErasurePlanItem.plan_id == ErasurePlan.id, ErasurePlan.case_id == case_id,
            ErasurePlan.status == ErasurePlanStatus.EXECUTED, ErasurePlanItem.action == Action.KEEP,
            ErasurePlanItem.executed_at.is_(None)),
        # A restriction still in force: the file is what says which records to lift, and that the subject
        # must be told first (Art. 18(3)).
        KeptBy.RESTRICTION: sa.exists().where(RestrictedRecord.case_id == case_id,
                                              RestrictedRecord.status != RestrictedStatus.LIFTED),
    }


def file_status(case: Case, today: date, *, years: int | None = None, kept: list[KeptBy] | None = None
                ) -> FileStatus | None:
    """Where a closed, unreduced case stands; None for an open or already reduced case. ``kept``: its
    :func:`kept_by`, when already read."""
    if case.closed_at is None or case.reduced_at is not None:
        return None
    closed_on = local_date(case.closed_at)
    years = retention_years() if years is None else years
    return FileStatus(case, closed_on, decide(closed_on, today, years=years,
                                              kept_by=kept_by(case) if kept is None else kept))


def past_period(today: date, *, years: int | None = None, limit: int | None = None) -> list[FileStatus]:
    """Closed, unreduced cases whose period has passed: those due and those kept, oldest first, with what
    keeps each read in the same statement (correlated EXISTS, built once per process: issue 15, item 3)."""
    years = retention_years() if years is None else years
    statement, reasons = _past_period_statement(limit is not None)
    rows = db.session.execute(statement, {"latest": _period_start(today, years), "limit": limit}).all()
    statuses = [file_status(case, today, years=years, kept=[r for r, held in zip(reasons, held, strict=True) if held])
                for case, *held in rows]
    return [s for s in statuses if s is not None and s.decision.due_on <= today]


@functools.cache
def _past_period_statement(limited: bool) -> tuple[sa.Select, tuple[KeptBy, ...]]:
    """The closed, unreduced cases closed before ``:latest``, oldest first (at most ``:limit`` when
    ``limited``), each followed by whether each reason of :func:`_reasons` keeps its file; and those
    reasons, in the order of their columns."""
    reasons = _reasons(Case.id, Case.subject_id)
    stmt = (sa.select(Case, *reasons.values())
            .where(Case.state.in_(list(CLOSED_STATES)), Case.reduced_at.is_(None),
                   Case.closed_at < sa.bindparam("latest")).order_by(Case.closed_at, Case.id))
    return (stmt.limit(sa.bindparam("limit")) if limited else stmt), tuple(reasons)


def _period_start(today: date, years: int) -> datetime:
    # Closed on or before this day (local time), the period has passed; a day's slack for time zones,
    # decided exactly per case (file_status).
    return datetime.combine(today - relativedelta(years=years) + timedelta(days=1), time.min, tzinfo=UTC)


def count_past_period(today: date, *, years: int | None = None) -> int:
    """How many closed, unreduced case files are past their period (due or kept): one count in SQL, for a
    list that shows only the oldest (an installation's first run may find tens of thousands)."""
    years = retention_years() if years is None else years
    # A closing time is set exactly when the case is in a closed state (the CHECK closed_iff_closed_at): the
    # count reads the index of unreduced closings alone, not each case's state (issue 15, item 3).
    return db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(
        Case.reduced_at.is_(None), Case.closed_at < _period_start(today, years))) or 0


# -- reducing ---------------------------------------------------------------------------------------------------

def reduce_case_file(case: Case, *, now: datetime, today: date, actor=None, years: int | None = None) -> dict:
    """Reduce one closed case file whose period has passed and that nothing keeps; returns what was done."""
    status = file_status(case, today, years=years)
    if status is None:
        raise CaseFileError(str(_l("Only a closed case file that was not reduced yet can be reduced.")))
    if not status.decision.due:
        raise CaseFileError(str(_l("This case file is not due for reduction.")))
    subject_id = case.subject_id
    deleted, files = _empty_tables(case.id)
    for table, values in CLEARED.items():
        t = db.metadata.tables[table]
        db.session.execute(t.update().where(t.c.case_id == case.id).values(**values))
    holds = db.metadata.tables["legal_holds"]
    deleted["legal_holds"] = db.session.execute(holds.delete().where(
        holds.c.case_id == case.id, holds.c.released_at.is_not(None))).rowcount
    deleted["case_file_holds"] = db.session.execute(sa.delete(CaseFileHold).where(
        CaseFileHold.case_id == case.id, CaseFileHold.released_at.is_not(None))).rowcount
    deleted = {table: n for table, n in deleted.items() if n}
    db.session.expire_all()
    case = db.session.get(Case, status.case.id)
    case.notes = ""
    if case.decision is not None:
        case.decision = ""
    if case.withdrawal_how is not None:
        case.withdrawal_how = ""
    if case.extension_reason is not None:
        case.extension_reason = ""
    case.subject_id = None
    case.reduced_at = now
    db.session.flush()
    subject_deleted = _delete_subject_if_unused(subject_id)
    to_purge = _payload_events(case.id, subject_id if subject_deleted else None)
    event = record("casefile.reduced", actor=actor, now=now, case=case, after={
        "closed_on": status.closed_on, "due_on": status.decision.due_on, "deleted": deleted, "files": files,
        "subject_deleted": subject_deleted, "payloads_purged": len(to_purge)})
    purge_payloads(to_purge, by=event, now=now)
    return {"case": case.reference, "deleted": deleted, "files": files, "subject_deleted": subject_deleted,
            "payloads_purged": len(to_purge)}


def _empty_tables(case_id: int) -> tuple[dict[str, int], int]:
    deleted: dict[str, int] = {}
    files = 0
    for table_name, how in EMPTIED:
        table = db.metadata.tables[table_name]
        if how == "case_id":
            where = table.c.case_id == case_id
        else:
            parent_name, parent_col, own_col = how
            parent = db.metadata.tables[parent_name]
            where = table.c[own_col].in_(sa.select(parent.c[parent_col]).where(parent.c.case_id == case_id))
        if table_name in FILES:
            for key in db.session.execute(sa.select(table.c[FILES[table_name]]).where(where)).scalars():
                if key:
                    delete_file_after_commit(key)
                    files += 1
        deleted[table_name] = db.session.execute(table.delete().where(where)).rowcount
    return deleted, files


def _delete_subject_if_unused(subject_id: int | None) -> bool:
    """Delete the subject's row when no case and no legal hold refers to it any more."""
    if subject_id is None:
        return False
    from dsr.fulfilment.models import LegalHold
    from dsr.subjects.models import DataSubject

    if db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.subject_id == subject_id)):
        return False
    if db.session.scalar(sa.select(sa.func.count()).select_from(LegalHold).where(LegalHold.subject_id == subject_id)):
        return False
    db.session.execute(sa.delete(DataSubject).where(DataSubject.id == subject_id))
    return True


def _payload_events(case_id: int, subject_id: int | None) -> list[AuditEvent]:
    """The case's events with details, and, once the subject's row is gone, the events that recorded it."""
    live = sa.and_(AuditPayload.purged_at.is_(None))
    events = list(db.session.execute(sa.select(AuditEvent).join(AuditPayload, AuditPayload.event_id == AuditEvent.id)
                                     .where(AuditEvent.case_id == case_id, live).order_by(AuditEvent.id)).scalars())
    if subject_id is not None:
        about_subject = db.session.execute(
            sa.select(AuditEvent).join(AuditPayload, AuditPayload.event_id == AuditEvent.id)
            .where(AuditEvent.case_id.is_(None), AuditEvent.action.like("subject.%"), live)
            .order_by(AuditEvent.id)).scalars()
        events += [e for e in about_subject if (e.after or {}).get("subject_id") == subject_id]
    return events


def reduce_due_case_files(*, now: datetime, today: date, years: int | None = None) -> list[dict]:
    """The daily run: reduce every case file due today, in the caller's one transaction (a failure leaves
    every file as it was, the job shows the error, and a retry starts again)."""
    return [reduce_case_file(s.case, now=now, today=today, years=years)
            for s in past_period(today, years=years) if s.decision.due]
