"""A person's part of an erasure (issue 13, item 6): the paper file destroyed, the processor instructed.

The paper archive and the processors (Focus Feedback, the mail house) are manual sources of the data map;
each becomes a task item of the plan (:mod:`dsr.fulfilment.erasure.plan`). Once the plan is approved, a
privacy manager or staff member records it done, with the day, and optionally the evidence (the processor's
written confirmation, a destruction certificate) as an upload, or, a privacy manager only, as impossible
with the reason. An erasure is complete only when every task is one or the other: :func:`open_obligations`
says what still stands between the case and its completion.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from dsr.attachments.models import Attachment
from dsr.audit.operations import record as audit_record
from dsr.auth.models import User
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.cases.guards import WRITERS, require_open, require_role
from dsr.cases.models import Case
from dsr.cases.obligations import Obligation
from dsr.cases.obligations import register as register_obligations
from dsr.domain.enums import ErasureOutcome, ErasurePlanStatus, Right, Role
from dsr.domain.retention import Action
from dsr.extensions import db
from dsr.fulfilment.models import ErasurePlan, ErasurePlanItem

NOTE_MAX = 2000


def _require_task(item: ErasurePlanItem, actor: User | None, what) -> None:
    require_role(actor, *WRITERS, what=what)
    require_open(item.plan.case, what)
    if not item.is_task:
        raise RuleViolation(_("Only a paper file or a processor is done by a person."))
    if item.plan.status is ErasurePlanStatus.DRAFT:
        raise RuleViolation(_("The erasure plan is not approved yet: nothing is destroyed or instructed before."))
    if item.outcome in (ErasureOutcome.DONE, ErasureOutcome.IMPOSSIBLE):
        raise RuleViolation(_("This task was already recorded."))


def record_task_done(item: ErasurePlanItem, *, done_on: date, note: str = "", evidence: Attachment | None = None,
                     actor: User | None, now: datetime, today: date) -> None:
    """The paper file was destroyed, or the processor instructed, on ``done_on`` (not after today)."""
    _require_task(item, actor, _l("record an erasure task"))
    if done_on > today:
        raise InvalidInput(_("The day it was done cannot be in the future."), "done_on")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise InvalidInput(_("The note is longer than %(num)d characters.", num=NOTE_MAX), "note")
    if evidence is not None and evidence.case_id != item.plan.case_id:
        raise InvalidInput(_("The evidence must be a file of this case."), "evidence")
    item.outcome, item.done_on, item.done_by_id = ErasureOutcome.DONE, done_on, actor.id
    item.evidence_id = evidence.id if evidence is not None else None
    item.executed_at, item.result = now, note or "done"
    audit_record("erasure.task_done", actor=actor, now=now, case=item.plan.case, after={
        "plan_id": item.plan_id, "item_id": item.id, "kind": item.kind.value, "source": item.source,
        "done_on": done_on.isoformat(), "evidence": item.evidence_id, "note": note or None})


def record_task_impossible(item: ErasurePlanItem, *, reason: str, actor: User | None, now: datetime,
                           today: date) -> None:
    """The task cannot be done (the file is lost, the processor no longer exists): the manager says why."""
    require_role(actor, Role.PRIVACY_MANAGER, what=_l("record an erasure task as impossible"))
    _require_task(item, actor, _l("record an erasure task as impossible"))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why it cannot be done: it is the case file's record."), "reason")
    if len(reason) > NOTE_MAX:
        raise InvalidInput(_("The reason is longer than %(num)d characters.", num=NOTE_MAX), "reason")
    item.outcome, item.impossible_reason = ErasureOutcome.IMPOSSIBLE, reason
    item.done_on, item.done_by_id, item.executed_at, item.result = today, actor.id, now, "impossible"
    audit_record("erasure.task_impossible", actor=actor, now=now, case=item.plan.case, after={
        "plan_id": item.plan_id, "item_id": item.id, "kind": item.kind.value, "source": item.source,
        "reason": reason})


def latest_plan(case: Case) -> ErasurePlan | None:
    import sqlalchemy as sa

    return db.session.execute(sa.select(ErasurePlan).where(ErasurePlan.case_id == case.id).order_by(
        ErasurePlan.id.desc()).limit(1)).scalar_one_or_none()


def open_obligations(case: Case, today: date | None = None) -> list[Obligation]:
    """What an approved erasure still owes before the case may complete, a sentence each; empty when nothing.

    An execution that stopped between sources, records that failed, and the paper file and processors
    neither done nor recorded impossible (never overridden: the erasure is not complete without them). A plan
    not yet approved owes none of this: whether it is executed at all is the completion checklist's item
    (:mod:`dsr.cases.checklist`). A case that does not request erasure owes nothing here.
    """
    if Right.ERASURE not in case.right_values:
        return []
    plan = latest_plan(case)
    if plan is None or plan.status is ErasurePlanStatus.DRAFT:
        return []
    problems = []
    if plan.status is ErasurePlanStatus.EXECUTING:
        problems.append(_("The erasure stopped before every system was done: execute it again to finish."))
    failed = sum(1 for i in plan.items if not i.is_task and i.outcome is ErasureOutcome.FAILED)
    if failed:
        problems.append(ngettext("%(num)d record could not be erased: execute the plan again to retry.",
                                 "%(num)d records could not be erased: execute the plan again to retry.", failed))
    tasks = sum(1 for i in plan.items if i.is_task and i.action is Action.ERASE
                and i.outcome not in (ErasureOutcome.DONE, ErasureOutcome.IMPOSSIBLE))
    if tasks:
        problems.append(ngettext(
            "%(num)d paper file or processor is neither done nor recorded as impossible (Art. 17, 28(3)(g)).",
            "%(num)d paper files or processors are neither done nor recorded as impossible (Art. 17, 28(3)(g)).",
            tasks))
    return [Obligation("erasure.work_open", problem) for problem in problems]


register_obligations("erasure", open_obligations, order=5)
