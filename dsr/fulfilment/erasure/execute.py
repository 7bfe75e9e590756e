"""Executing an approved erasure plan on the source systems (Art. 17(1)).

A privacy manager or staff member executes it: the approval was the legal decision. Execution runs one
transaction per source on a writable engine, checks the legal-hold guard again for every record (a hold
placed after approval still wins, Art. 17(3)(e)), applies the data map's erase strategy (delete the row,
set fields null, mask them) and records on each item what was erased: field names, never values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.audit.operations import record as audit_record
from dsr.auth.models import User
from dsr.cases.errors import RuleViolation
from dsr.cases.guards import WRITERS, require_open, require_role
from dsr.datamap import erase as datamap_erase
from dsr.datamap.sources import DataMapError, Source, load_sources
from dsr.domain.enums import ErasurePlanStatus
from dsr.domain.retention import Action
from dsr.fulfilment.erasure.plan import settings
from dsr.fulfilment.erasure.texts import HELD_SINCE_APPROVAL, outcome_basis
from dsr.fulfilment.holds import RecordHeld, RecordRef, refuse_if_held
from dsr.fulfilment.models import ErasurePlan, ErasurePlanItem
from dsr.objection.operations import suppress_for_erasure


def apply_items(items: Sequence[ErasurePlanItem], sources: Mapping[str, Source], config: Mapping[str, Any],
                now: datetime, note: str = "") -> dict[str, str]:
    """Erase the items, one transaction per source, children before parents; ``{source: error}`` for the
    sources that failed (their transaction is rolled back and their items stay pending)."""
    failed: dict[str, str] = {}
    by_source: dict[str, list[ErasurePlanItem]] = {}
    for item in items:
        by_source.setdefault(item.source, []).append(item)
    for key, group in sorted(by_source.items()):
        source = sources[key]
        results: dict[int, str] = {}
        engine = None
        try:
            engine = datamap_erase.writable_engine(source.connection_url(config))
            with engine.begin() as conn:
                tables = datamap_erase.reflect(conn, source)
                order = {name: n for n, name in enumerate(datamap_erase.deletion_order(tables))}
                for item in sorted(group, key=lambda i: (order.get(i.collection, 0), i.id)):
                    done = datamap_erase.erase_record(conn, tables[item.collection],
                                                      source.collection(item.collection), item.primary_key)
                    results[item.id] = note + result_text(done)
        except (DataMapError, sa.exc.SQLAlchemyError) as exc:
            failed[key] = (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]
            continue
        finally:
            if engine is not None:
                engine.dispose()
        for item in group:
            item.result, item.executed_at = results[item.id], now
    return failed


def result_text(done: Mapping[str, Any]) -> str:
    """What was done to a record, as the item records it: English, as the rules' texts are; no values."""
    if "deleted" in done:
        return "row deleted" if done["deleted"] else "not found: already gone"
    if not done["rows"]:
        return "not found: already gone"
    parts = [f"set empty: {', '.join(done['nulled'])}" if done["nulled"] else "",
             f"masked: {', '.join(done['masked'])}" if done["masked"] else ""]
    return "; ".join(p for p in parts if p)


def execute_plan(plan: ErasurePlan, *, actor: User | None, now: datetime, today: date,
                 config: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Carry out an approved plan on the sources (Art. 17(1)); returns ``{source: error}`` of any failures.

    Privacy manager or staff, approved plans only. Every record to erase passes the legal-hold guard again:
    one held since approval is kept under ``legal-hold`` and left out, never erased (Art. 17(3)(e)). A
    source that fails is rolled back and reported; the plan stays approved so executing it again finishes
    the rest. Audited as ``erasure.executed`` with counts per source, not data.
    """
    require_role(actor, *WRITERS, what=_l("execute an erasure plan"))
    if plan.status is not ErasurePlanStatus.APPROVED:
        raise RuleViolation(_("Only an approved erasure plan can be executed; the privacy manager approves it."))
    case = plan.case
    require_open(case, _l("execute an erasure plan"))
    config = settings(config)
    todo, held = [], []
    for item in plan.items:
        if item.action is Action.KEEP or item.executed_at is not None:
            continue
        try:
            refuse_if_held(RecordRef(item.source, item.collection, item.primary_key), case.subject_id)
        except RecordHeld as exc:
            item.action, item.rule_id, item.article = Action.KEEP, "legal-hold", "GDPR Art. 17(3)(e)"
            item.basis = outcome_basis(HELD_SINCE_APPROVAL, reason=exc.hold.reason)
            item.erase_on, item.until = None, "until the legal hold is released"
            held.append(item)
            continue
        todo.append(item)
    # A rule with ``suppress: true`` (marketing) puts the subject on the suppression list, whatever happens
    # to the record itself; read before the rows are gone (Art. 21(3)).
    suppress_for_erasure(case, plan.items, actor=actor, now=now, config=config)
    failed = apply_items(todo, load_sources(config), config, now)
    if not failed:
        plan.status, plan.executed_at, plan.executed_by_id = ErasurePlanStatus.EXECUTED, now, \
            actor.id if actor else None
    done = [i for i in todo if i.executed_at is not None]
    audit_record("erasure.executed", actor=actor, now=now, case=case, after={
        "plan_id": plan.id, "erased": len(done), "held_since_approval": len(held),
        "kept": sum(1 for i in plan.items if i.action is Action.KEEP),
        "per_source": {s: sum(1 for i in done if i.source == s) for s in sorted({i.source for i in done})},
        "failed": failed})
    return failed
