"""The daily erase-due run (``flask --app wsgi dsr erase-due``): kept records erased when their time came.

Kept records stay listed on their executed plan with their reason and erase-on date. Each run, per plan:

1. **re-dates first**: every kept item decided under other rules or another book year (``rules_version``)
   is decided again under today's, whatever its old date says, before anything is erased: an invoice
   planned under "7 years from its date" gets its date from the end of the book year and is not erased
   on the old one;
2. decides again the kept items whose date came or that have none ("while the policy is active"...), and
   erases those now due, with the execution's own savepoints and outcomes;
3. deletes the rows it anonymised earlier once no kept record refers to them any more.

Never erased here: a record kept by the privacy manager's decision, and a shared record (also another
person's): when its rule ends it stays kept, marked for the privacy manager. A record no rule covers any
more is kept for review, never erased by default.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from dsr.audit.operations import jsonable
from dsr.audit.operations import record as audit_record
from dsr.datamap import erase as datamap_erase
from dsr.datamap.sources import DataMapError, load_sources
from dsr.domain.enums import ErasureOutcome, ErasurePlanStatus
from dsr.domain.retention import Action
from dsr.extensions import db
from dsr.fulfilment.erasure.deciding import Entry, decide_entries, outcomes, rules_version
from dsr.fulfilment.erasure.execute import apply_items
from dsr.fulfilment.erasure.plan import case_closed_on
from dsr.fulfilment.erasure.texts import SHARED, SHARED_ARTICLE, outcome_basis
from dsr.fulfilment.holds import RecordRef
from dsr.fulfilment.models import ErasurePlan, ErasurePlanItem
from dsr.settings import settings
from dsr.suppression.operations import suppress_for_erasure

log = logging.getLogger(__name__)


def _kept(plan: ErasurePlan) -> list[ErasurePlanItem]:
    """The plan's record items still kept by a rule (not by the manager's decision), not yet erased."""
    return [i for i in plan.items if not i.is_task and i.action is Action.KEEP and i.executed_at is None
            and i.decided_at is None]


def _anonymised(plan: ErasurePlan) -> list[ErasurePlanItem]:
    return [i for i in plan.items if i.outcome is ErasureOutcome.ANONYMISED and not i.shared]


def _plans_to_visit(today: date, version: str) -> list[int]:
    kept = sa.select(ErasurePlanItem.plan_id).join(ErasurePlan).where(
        ErasurePlan.status == ErasurePlanStatus.EXECUTED, ErasurePlanItem.action == Action.KEEP,
        ErasurePlanItem.executed_at.is_(None), ErasurePlanItem.decided_at.is_(None),
        sa.or_(ErasurePlanItem.erase_on <= today, ErasurePlanItem.erase_on.is_(None),
               ErasurePlanItem.rules_version.is_(None), ErasurePlanItem.rules_version != version))
    anonymised = sa.select(ErasurePlanItem.plan_id).join(ErasurePlan).where(
        ErasurePlan.status == ErasurePlanStatus.EXECUTED, ErasurePlanItem.outcome == ErasureOutcome.ANONYMISED,
        ErasurePlanItem.shared.is_(False))
    return sorted(set(db.session.execute(kept.union(anonymised)).scalars()))


def erase_due_items(*, now: datetime, today: date, config: Mapping[str, Any] | None = None) -> list[dict]:
    """Run once a day by the system (no actor); returns one summary per plan whose items changed.

    A case whose items changed gets an ``erasure.scheduled`` audit event with what was erased, re-dated,
    newly dated and still kept. A plan whose source is down or no longer in the data map is reported and
    left as it was (tried again on the next run); the others go on.
    """
    config = settings(config)
    version = rules_version(config)
    plan_ids = _plans_to_visit(today, version)
    if not plan_ids:
        return []
    sources = load_sources(config)
    summaries = []
    for plan_id in plan_ids:
        plan = db.session.get(ErasurePlan, plan_id)
        found = {(f.source, f.collection, RecordRef.of(f).text): f for f in plan.lookup.records}
        # Every record still kept is decided again: one kept after today may still hold a due one back.
        pending = _kept(plan)
        anonymised = _anonymised(plan)
        entries = []
        for item in pending + anonymised:
            ref = RecordRef(item.source, item.collection, item.primary_key)
            f = found.get((item.source, item.collection, ref.text))
            entries.append(Entry(ref, f.categories if f else [], item.record_date or (f.record_date if f else None),
                                 shared=item.shared, shared_reason=item.shared_reason))
        try:
            decide_entries(entries, sources, plan.case.subject_id, config, today, case_closed_on(plan.case))
        except (DataMapError, sa.exc.SQLAlchemyError, KeyError) as exc:
            problem = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            log.warning("erase-due: plan %s of %s not decided: %s", plan.id, plan.case.reference, problem)
            summaries.append({"case": plan.case.reference, "plan_id": plan.id, "erased": 0, "redated": 0,
                              "still_kept": len(pending), "newly_dated": 0, "records": [],
                              "failed": {"decide": problem}})
            continue
        kept_entries = entries[:len(pending)]
        results = outcomes(kept_entries, sources) if kept_entries else []
        to_erase, still, dated, redated = _sort_kept(pending, kept_entries, results, today, version)
        staying = [e for item, e in zip(pending, kept_entries, strict=True) if item not in to_erase]
        to_delete = _no_longer_referenced(anonymised, entries[len(pending):], staying, sources)
        if not (to_erase or still or dated or redated or to_delete):
            continue
        suppress_for_erasure(plan.case, to_erase, actor=None, now=now, config=config)
        for item in to_delete:
            item.action, item.outcome, item.executed_at, item.result = Action.ERASE, None, None, None
        failed = apply_items(to_erase + to_delete, sources, config, now, note=f"erased on {today.isoformat()}: ")
        done = [i for i in to_erase + to_delete if i.executed_at is not None]
        summary = {"plan_id": plan.id, "erased": len(done), "still_kept": len(still), "newly_dated": len(dated),
                   "redated": len(redated), "records": [f"{i.source}/{i.collection}/{i.key_text}" for i in done],
                   "failed": failed}
        audit_record("erasure.scheduled", actor=None, now=now, case=plan.case, after=jsonable(summary))
        summaries.append({"case": plan.case.reference, **summary})
    return summaries


def _sort_kept(pending, entries, results, today: date, version: str):
    """``(to erase, still kept with a new ground or date, newly dated, re-dated under new rules)``."""
    to_erase, still, dated, redated = [], [], [], []
    for item, entry, outcome in zip(pending, entries, results, strict=True):
        stale = item.rules_version != version
        if entry.row is None:
            to_erase.append(item)  # gone from the source meanwhile: recorded as such, not re-read daily
            continue
        if not stale and item.erase_on is not None and item.erase_on > today:
            continue
        if outcome.action in (Action.ERASE, Action.ANONYMISE) and not item.shared:
            to_erase.append(item)
            continue
        if outcome.action is not Action.KEEP:  # review, or a shared record whose rule ended: never by default
            keep_for_review(item, outcome, version)
            still.append(item)
            continue
        undated = item.erase_on is None
        changed = (outcome.erase_on, outcome.rule_id) != (item.erase_on, item.rule_id)
        item.rule_id, item.basis, item.article = outcome.rule_id, outcome.basis, outcome.article
        item.erase_on, item.until, item.rules_version = outcome.erase_on, outcome.until, version
        if stale and changed:
            redated.append(item)
        elif undated and outcome.erase_on is not None:
            dated.append(item)
        elif changed:
            still.append(item)
    return to_erase, still, dated, redated


def keep_for_review(item: ErasurePlanItem, outcome, version: str) -> None:
    """A kept record the rules would now erase but may not be erased by default: it stays kept, marked."""
    if item.shared:
        item.rule_id, item.article = SHARED, SHARED_ARTICLE
        item.basis = outcome_basis(SHARED, reason=item.shared_reason or "reached from another person")
    else:
        item.rule_id, item.basis, item.article = outcome.rule_id, outcome.basis, outcome.article
    item.erase_on, item.until, item.rules_version = None, "until the privacy manager decides", version


def _no_longer_referenced(anonymised, entries, staying, sources):
    """The anonymised rows no record still kept after this run refers to: their rows can go now."""
    referred: set[tuple] = set()
    for entry in staying:
        if entry.row is not None:
            source = sources[entry.ref.source]
            for coll, fld, value in datamap_erase.referenced_keys(
                    source, source.collection(entry.ref.collection), entry.row):
                referred.add((entry.ref.source, coll, fld, str(value)))
    free = []
    for item, entry in zip(anonymised, entries, strict=True):
        row = entry.row or {}
        if not any((item.source, item.collection, k, str(v)) in referred for k, v in row.items()):
            free.append(item)
    return free
