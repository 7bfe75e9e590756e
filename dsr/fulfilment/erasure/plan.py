"""Building and approving an erasure plan (Art. 17(1), 17(3)): one decision per record of a confirmed lookup.

:func:`build_erasure_plan` turns a *confirmed* lookup into one decision per record by the retention rules
(:mod:`dsr.domain.retention`): erase, anonymise, or keep with the rule, basis, article and erase-on date.
The privacy manager approves it (:func:`approve_plan`): the approval is the legal decision, execution
(:mod:`dsr.fulfilment.erasure.execute`) only carries it out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.audit.operations import record as audit_record
from dsr.auth.models import User
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.cases.guards import WRITERS, require_open, require_role
from dsr.cases.models import Case
from dsr.datamap.sources import DataMapError, SourceKind, load_sources
from dsr.domain.enums import ErasurePlanStatus, LookupMatch, Right, Role
from dsr.domain.retention import Action
from dsr.extensions import db
from dsr.fulfilment.erasure.deciding import Entry, decide_entries, outcomes
from dsr.fulfilment.holds import RecordRef
from dsr.fulfilment.lookup_ops import latest_lookup
from dsr.fulfilment.models import ErasurePlan, ErasurePlanItem, Lookup


def settings(config: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The app's configuration unless one is given (the scheduled run and tests pass their own)."""
    return current_app.config if config is None else config


def build_erasure_plan(case: Case, lookup: Lookup, *, actor: User | None, now: datetime, today: date,
                       config: Mapping[str, Any] | None = None) -> ErasurePlan:
    """The erasure plan for the records of a confirmed lookup: one decision per record (Art. 17(1), 17(3)).

    Writers only, open erasure cases only, the newest lookup only and only once its match is confirmed (a
    wrong match would erase someone else's data, Art. 5(1)(d)). An earlier draft of the case is replaced;
    an approved plan not yet executed must be executed first. Audited as ``erasure.planned`` with counts.
    """
    require_role(actor, *WRITERS, what=_l("build an erasure plan"))
    require_open(case, _l("build an erasure plan"))
    if Right.ERASURE not in case.right_values:
        raise RuleViolation(_("This case does not request erasure."))
    if lookup.case_id != case.id:
        raise InvalidInput(_("Unknown search."), "lookup_id")
    latest = latest_lookup(case)
    if latest is None or latest.id != lookup.id:
        raise RuleViolation(_("A newer search was run on this case since; plan from that one."))
    if lookup.match != LookupMatch.CONFIRMED:
        raise RuleViolation(_("Confirm that the records found are this person's before planning their erasure."))
    earlier = list(db.session.execute(sa.select(ErasurePlan).where(
        ErasurePlan.case_id == case.id, ErasurePlan.status != ErasurePlanStatus.EXECUTED)).scalars())
    if any(p.status is ErasurePlanStatus.APPROVED for p in earlier):
        raise RuleViolation(_("An approved erasure plan is waiting to be executed; execute it first."))
    for draft in earlier:
        db.session.delete(draft)
    config = settings(config)
    sources = load_sources(config)
    entries = [Entry(RecordRef.of(f), f.categories, f.record_date) for f in lookup.records
               if f.source in sources and sources[f.source].kind is SourceKind.SQL]
    try:
        decide_entries(entries, sources, case.subject_id, config, today)
    except (DataMapError, sa.exc.SQLAlchemyError) as exc:
        raise RuleViolation(_("The records could not be read to plan their erasure: %(error)s",
                              error=str(getattr(exc, "orig", None) or exc).splitlines()[0])) from exc
    plan = ErasurePlan(case_id=case.id, lookup_id=lookup.id, status=ErasurePlanStatus.DRAFT, built_at=now,
                       built_by_id=actor.id if actor else None)
    plan.items = [ErasurePlanItem(
        source=e.ref.source, collection=e.ref.collection, primary_key=dict(e.ref.primary_key), action=o.action,
        rule_id=o.rule_id, basis=o.basis, article=o.article, erase_on=o.erase_on, until=o.until, breach=o.breach)
        for e, o in zip(entries, outcomes(entries, sources), strict=True)]
    db.session.add(plan)
    db.session.flush()
    audit_record("erasure.planned", actor=actor, now=now, case=case, after={
        "plan_id": plan.id, "lookup_id": lookup.id, "replaced": [p.id for p in earlier], **counts(plan.items)})
    return plan


def counts(items: Sequence[ErasurePlanItem]) -> dict[str, Any]:
    """The plan in numbers for the audit trail: items per action and breaches; never a record's value."""
    per_action = {a.value: sum(1 for i in items if i.action is a) for a in Action}
    return {"items": per_action, "breaches": sum(1 for i in items if i.breach)}


def approve_plan(plan: ErasurePlan, *, actor: User | None, now: datetime) -> None:
    """The privacy manager approves the plan: the legal decision on what is erased and what is kept."""
    if actor is None:
        raise NotAllowed(_("Only a privacy manager may approve an erasure plan."))
    require_role(actor, Role.PRIVACY_MANAGER, what=_l("approve an erasure plan"))
    require_open(plan.case, _l("approve an erasure plan"))
    if plan.status is not ErasurePlanStatus.DRAFT:
        raise RuleViolation(_("This erasure plan was already approved."))
    plan.status, plan.approved_at, plan.approved_by_id = ErasurePlanStatus.APPROVED, now, actor.id
    audit_record("erasure.approved", actor=actor, now=now, case=plan.case,
                 after={"plan_id": plan.id, **counts(plan.items)})
