"""The daily erase-due run (``flask --app wsgi dsr erase-due``): kept records erased when their time came.

Kept records stay listed on their plan with their reason and erase-on date; :func:`erase_due_items` decides
them again when their date comes and erases those now due, noting it on the case (DESIGN.md, "Retention
and exemptions").
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from dsr.audit.operations import jsonable
from dsr.audit.operations import record as audit_record
from dsr.datamap.sources import DataMapError, load_sources
from dsr.domain.enums import ErasurePlanStatus
from dsr.domain.retention import Action
from dsr.extensions import db
from dsr.fulfilment.erasure.deciding import Entry, decide_entries, outcomes
from dsr.fulfilment.erasure.execute import apply_items
from dsr.fulfilment.erasure.plan import settings
from dsr.fulfilment.holds import RecordRef
from dsr.fulfilment.models import ErasurePlan, ErasurePlanItem
from dsr.objection.operations import suppress_for_erasure

log = logging.getLogger(__name__)


def erase_due_items(*, now: datetime, today: date, config: Mapping[str, Any] | None = None) -> list[dict]:
    """The scheduled part: kept items of executed plans are decided again and erased when their time came.

    Two kinds of kept item: those with an erase-on date that has come (a hold may have been placed since, or
    the record now falls under another rule), and those kept without a date, "while the policy is active",
    "while the claim is open", "until the legal hold is released". The second kind is re-checked every
    run: once the policy ended, the claim was settled or the hold was released, the rules give a date (which
    the item now shows) or say erase, and it is erased. Run by the system (no actor). A case whose items
    changed gets an ``erasure.scheduled`` audit event with what was erased, newly dated and still kept;
    returns one such summary per case touched.
    """
    config = settings(config)
    due = list(db.session.execute(sa.select(ErasurePlanItem).join(ErasurePlan).where(
        ErasurePlan.status == ErasurePlanStatus.EXECUTED, ErasurePlanItem.action == Action.KEEP,
        ErasurePlanItem.executed_at.is_(None),
        sa.or_(ErasurePlanItem.erase_on <= today, ErasurePlanItem.erase_on.is_(None))).order_by(
        ErasurePlanItem.plan_id, ErasurePlanItem.id)).scalars())
    if not due:
        return []
    sources = load_sources(config)
    summaries = []
    for plan_id in sorted({i.plan_id for i in due}):
        plan = db.session.get(ErasurePlan, plan_id)
        found = {(f.source, f.collection, RecordRef.of(f).text): f for f in plan.lookup.records}
        # Every record still kept is decided again: one kept after today may still hold a due one back.
        pending = [i for i in plan.items if i.action is Action.KEEP and i.executed_at is None]
        entries = []
        for item in pending:
            ref = RecordRef(item.source, item.collection, item.primary_key)
            f = found.get((item.source, item.collection, ref.text))
            entries.append(Entry(ref, f.categories if f else [], f.record_date if f else None))
        try:
            decide_entries(entries, sources, plan.case.subject_id, config, today)
        except (DataMapError, sa.exc.SQLAlchemyError, KeyError) as exc:
            # One plan whose source is down or no longer in the data map must not stop the others: it is
            # reported (and tried again on the next run), nothing of it is changed.
            problem = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            log.warning("erase-due: plan %s of %s not decided: %s", plan.id, plan.case.reference, problem)
            summaries.append({"case": plan.case.reference, "plan_id": plan.id, "erased": 0, "still_kept": len(pending),
                              "newly_dated": 0, "records": [], "failed": {"decide": problem}})
            continue
        to_erase, still, dated = [], [], []
        for item, entry, outcome in zip(pending, entries, outcomes(entries, sources), strict=True):
            if entry.row is None:
                to_erase.append(item)  # gone from the source meanwhile: recorded as such, not re-read daily
                continue
            if item.erase_on is not None and item.erase_on > today:
                continue
            if outcome.action is not Action.KEEP:
                to_erase.append(item)
                continue
            undated = item.erase_on is None
            if undated and outcome.erase_on is None and outcome.rule_id == item.rule_id:
                continue  # still kept on the same ground, still without a date: nothing to say
            item.rule_id, item.basis, item.article = outcome.rule_id, outcome.basis, outcome.article
            item.erase_on, item.until = outcome.erase_on, outcome.until
            (dated if undated and outcome.erase_on is not None else still).append(item)
        if not (to_erase or still or dated):
            continue
        suppress_for_erasure(plan.case, to_erase, actor=None, now=now, config=config)
        failed = apply_items(to_erase, sources, config, now, note=f"erased on {today.isoformat()}: ")
        done = [i for i in to_erase if i.executed_at is not None]
        summary = {"plan_id": plan.id, "erased": len(done), "still_kept": len(still), "newly_dated": len(dated),
                   "records": [f"{i.source}/{i.collection}/{i.key_text}" for i in done], "failed": failed}
        audit_record("erasure.scheduled", actor=None, now=now, case=plan.case, after=jsonable(summary))
        summaries.append({"case": plan.case.reference, **summary})
    return summaries
