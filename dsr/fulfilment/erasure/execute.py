"""Executing an approved erasure plan on the source systems (Art. 17(1)), so that a crash harms nothing.

A privacy manager or staff member executes it: the approval was the legal decision. Execution

1. checks the legal-hold guard again for every record (a hold placed after approval still wins,
   Art. 17(3)(e)) and that every item was decided under the rules in force;
2. records the plan as ``executing`` and **commits** before any source system is touched;
3. erases one source at a time, in one transaction per source, children before parents, each record in a
   savepoint of its own; once the source has committed, records each item's outcome in dsr and commits
   again, then calls the hooks registered with :func:`after_source_commit` (stored files are deleted
   there), whose failures turn an item into ``failed``;
4. records the plan ``executed`` once no record item is left.

A process killed between two sources leaves an ``executing`` plan whose finished sources' items carry
their outcome; executing it again does only what is left. Outcomes: ``deleted`` (the row is gone),
``anonymised`` (the row is kept with its personal fields masked, and why), ``kept``, ``failed``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
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
from dsr.domain.enums import ErasureOutcome, ErasurePlanStatus
from dsr.domain.retention import Action
from dsr.extensions import db
from dsr.fulfilment.erasure.deciding import rules_version
from dsr.fulfilment.erasure.plan import record_items
from dsr.fulfilment.erasure.texts import HELD_SINCE_APPROVAL, outcome_basis
from dsr.fulfilment.holds import RecordHeld, RecordRef, refuse_if_held
from dsr.fulfilment.models import ErasurePlan, ErasurePlanItem
from dsr.settings import settings
from dsr.suppression.operations import suppress_for_erasure

# A hook called after a source's transaction committed, with the source, per item erased in it the row as
# it was before (None when it was already gone), and the time; it returns ``{item id: error}`` for what it
# could not finish (a stored file not deleted): those items become ``failed`` and are tried again.
SourceHook = Callable[[Source, Sequence[tuple[ErasurePlanItem, Mapping[str, Any] | None]], datetime],
                      Mapping[int, str]]
_HOOKS: list[SourceHook] = []


def after_source_commit(hook: SourceHook) -> SourceHook:
    """Register ``hook`` (usable as a decorator); registering the same hook twice has no effect."""
    if hook not in _HOOKS:
        _HOOKS.append(hook)
    return hook


# A hook called inside a source's transaction before anything in it is erased, with the connection, the
# source's tables and the items to erase there: it records in dsr what must be known once the rows are
# gone (a stored object's address); dsr's session is committed right after, before the source commits.
# It returns the ids of the items that are not erased until an after-commit hook finished their work: those
# are committed as ``failed`` ("retry") first, so a process killed before the hook ran leaves them to be
# tried again, never "erased" with their files still there.
WAITING = "retry: the stored objects that go with it are still to be deleted"
PrepareHook = Callable[[sa.Connection, Mapping[str, sa.Table], Source, Sequence[ErasurePlanItem]],
                       Iterable[int] | None]
_PREPARE: list[PrepareHook] = []


def before_source_changes(hook: PrepareHook) -> PrepareHook:
    """Register ``hook`` (usable as a decorator); registering the same hook twice has no effect."""
    if hook not in _PREPARE:
        _PREPARE.append(hook)
    return hook


@dataclass
class _Done:
    """What happened to one item in its source: the outcome, the words recorded, the row before."""

    outcome: ErasureOutcome
    text: str
    before: dict[str, Any] | None


def _erase_one(conn: sa.Connection, table: sa.Table, source: Source, item: ErasurePlanItem) -> _Done:
    """One item in a savepoint: delete the row where the item says so and nothing refuses it, else mask."""
    coll = source.collection(item.collection)
    before = datamap_erase.read_row(conn, table, item.primary_key)
    if before is None:
        return _Done(ErasureOutcome.DELETED, "not found: already gone", None)
    if item.action is not Action.ANONYMISE:
        try:
            with conn.begin_nested():
                deleted = conn.execute(sa.delete(table).where(
                    datamap_erase.key_clause(table, item.primary_key))).rowcount
            return _Done(ErasureOutcome.DELETED, "row deleted" if deleted else "not found: already gone", before)
        except sa.exc.IntegrityError as exc:
            if datamap_erase.strategy(coll)[0]:
                # A row that can only be deleted, and cannot be: failed, with the database's reason.
                reason = (str(getattr(exc, "orig", None) or exc).splitlines() or ["refused"])[0]
                return _Done(ErasureOutcome.FAILED, f"the database refused to delete it: {reason}", None)
            why = "other records in the system still refer to it"
    else:
        why = item.until or "records that are kept refer to it"
    with conn.begin_nested():
        done = datamap_erase.mask_fields(conn, table, coll, item.primary_key, only=item.only_fields)
    if not (done["nulled"] or done["masked"]):
        # Nothing could be deleted nor masked: saying "anonymised" would not be true.
        return _Done(ErasureOutcome.FAILED, f"not erased: {why}, and the data map gives no field to mask", None)
    return _Done(ErasureOutcome.ANONYMISED, f"{_masked_text(done)}; row kept: {why}", before)


def named_recipients(source: Source, collection: str, row: Mapping[str, Any]) -> dict[str, list[str]]:
    """``{recipient id: [names]}`` the row names in the fields the data map marks (Art. 19); names only,
    which are the recipients' (companies), not the subject's data."""
    found: dict[str, set[str]] = {}
    for fld in source.collection(collection).fields:
        name = fld.recipient_name(row.get(fld.name))
        if name is not None:
            found.setdefault(fld.recipient, set()).add(name)
    return {rid: sorted(names) for rid, names in sorted(found.items())}


def _masked_text(done: Mapping[str, Any]) -> str:
    parts = [f"set empty: {', '.join(done['nulled'])}" if done["nulled"] else "",
             f"masked: {', '.join(done['masked'])}" if done["masked"] else ""]
    return "; ".join(p for p in parts if p) or "no personal field to mask"


def apply_items(items: Sequence[ErasurePlanItem], sources: Mapping[str, Source], config: Mapping[str, Any],
                now: datetime, note: str = "", *, commit: bool = False) -> dict[str, str]:
    """Erase the items, one transaction per source; ``{source: error}`` for the sources that failed.

    A failed source is rolled back and its items become ``failed`` with the error (tried again later).
    With ``commit`` dsr's own session is committed after each source's outcome is recorded (execution);
    the erase-due run commits once at the end.
    """
    failed: dict[str, str] = {}
    by_source: dict[str, list[ErasurePlanItem]] = {}
    for item in items:
        by_source.setdefault(item.source, []).append(item)
    for key, group in sorted(by_source.items()):
        source = sources[key]
        results: dict[int, _Done] = {}
        engine = None
        try:
            engine = datamap_erase.writable_engine(source.connection_url(config))
            with engine.begin() as conn:
                tables = datamap_erase.reflect(conn, source)
                waiting: set[int] = set()
                for prepare in list(_PREPARE):
                    waiting |= set(prepare(conn, tables, source, group) or ())
                db.session.commit() if commit else db.session.flush()  # known to dsr before the source commits
                order = {name: n for n, name in enumerate(datamap_erase.deletion_order(tables))}
                for item in sorted(group, key=lambda i: (order.get(i.collection, 0), i.id)):
                    results[item.id] = _erase_one(conn, tables[item.collection], source, item)
        except (DataMapError, sa.exc.SQLAlchemyError) as exc:
            failed[key] = (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]
            for item in group:
                item.outcome, item.failure = ErasureOutcome.FAILED, failed[key][:2000]
            if commit:
                db.session.commit()
            continue
        finally:
            if engine is not None:
                engine.dispose()
        erased = []
        for item in group:
            done = results[item.id]
            if done.outcome is ErasureOutcome.FAILED:
                item.outcome, item.failure = done.outcome, done.text[:2000]
                continue
            erased.append(item)
            if done.before is not None:
                item.recipients = named_recipients(source, item.collection, done.before) or item.recipients
            if item.id in waiting:
                # Not erased until what goes with the row is gone too (see PrepareHook).
                item.outcome, item.failure = ErasureOutcome.FAILED, WAITING
                continue
            item.result, item.executed_at = note + done.text, now
            item.outcome, item.failure = done.outcome, None
        if commit:
            db.session.commit()
        problems: dict[int, str] = {}
        for hook in list(_HOOKS):
            problems.update(hook(source, [(item, results[item.id].before) for item in erased], now) or {})
        for item in erased:
            done = results[item.id]
            if item.id in problems:
                item.outcome, item.failure = ErasureOutcome.FAILED, f"retry: {problems[item.id]}"[:2000]
                item.executed_at, item.result = None, None
            elif item.id in waiting:
                # A hook may have said what it did (the files deleted): it follows what was done to the row.
                item.result = note + done.text + (item.result or "")
                item.executed_at, item.outcome, item.failure = now, done.outcome, None
        if commit:
            db.session.commit()
    return failed


def _pending(plan: ErasurePlan) -> list[ErasurePlanItem]:
    """The record items execution still has to carry out (erase or anonymise, no outcome yet or failed)."""
    return [i for i in record_items(plan) if i.action in (Action.ERASE, Action.ANONYMISE)
            and i.executed_at is None]


def execution_summary(plan: ErasurePlan) -> dict[str, Any]:
    """What executing will do, for the confirmation shown first: counts per system and collection."""
    per: dict[tuple[str, str], dict[str, int]] = {}
    for item in record_items(plan):
        key = (item.source, item.collection)
        counts = per.setdefault(key, {"erase": 0, "anonymise": 0, "keep": 0})
        if item.action is Action.KEEP:
            counts["keep"] += 1
        elif item.executed_at is None:
            counts["erase" if item.action is Action.ERASE else "anonymise"] += 1
    rows = [{"source": s, "collection": c, **n} for (s, c), n in sorted(per.items())]
    return {"rows": rows, "erase": sum(r["erase"] for r in rows), "anonymise": sum(r["anonymise"] for r in rows),
            "keep": sum(r["keep"] for r in rows), "tasks": sum(1 for i in plan.items if i.is_task)}


def execute_plan(plan: ErasurePlan, *, actor: User | None, now: datetime, today: date,
                 config: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Carry out an approved (or resume an ``executing``) plan; returns ``{source: error}`` of any failures.

    Commits dsr's session itself: once before the first source, and after each source (see the module
    docstring). Audited as ``erasure.executing`` when it starts and ``erasure.executed`` with counts per
    source, never data.
    """
    require_role(actor, *WRITERS, what=_l("execute an erasure plan"))
    if plan.status not in (ErasurePlanStatus.APPROVED, ErasurePlanStatus.EXECUTING):
        raise RuleViolation(_("Only an approved erasure plan can be executed; the privacy manager approves it."))
    case = plan.case
    require_open(case, _l("execute an erasure plan"))
    config = settings(config)
    version = rules_version(config)
    if any(i.rules_version != version for i in _pending(plan)):
        raise RuleViolation(_("The retention rules or the book year changed since this plan was built: build "
                              "the plan again, so that nothing is erased under the old rules."))
    held = []
    if plan.status is ErasurePlanStatus.APPROVED:
        for item in _pending(plan):
            try:
                refuse_if_held(RecordRef(item.source, item.collection, item.primary_key), case.subject_id)
            except RecordHeld as exc:
                item.action, item.rule_id, item.article = Action.KEEP, "legal-hold", "GDPR Art. 17(3)(e)"
                item.basis = outcome_basis(HELD_SINCE_APPROVAL, reason=exc.hold.reason)
                item.erase_on, item.until = None, "until the legal hold is released"
                held.append(item)
        for item in record_items(plan):
            if item.action is Action.KEEP:
                item.outcome = ErasureOutcome.KEPT
        # A rule with ``suppress: true`` (marketing) puts the subject on the suppression list, whatever
        # happens to the record itself; read before the rows are gone (Art. 21(3)).
        suppress_for_erasure(case, plan.items, actor=actor, now=now, config=config)
        plan.status, plan.execution_started_at = ErasurePlanStatus.EXECUTING, now
        audit_record("erasure.executing", actor=actor, now=now, case=case, after={
            "plan_id": plan.id, "held_since_approval": len(held), **execution_summary(plan)})
        db.session.commit()  # recorded before any source is touched
    todo = _pending(plan)
    failed = apply_items(todo, load_sources(config), config, now, commit=True)
    left = _pending(plan)
    if not left:
        plan.status, plan.executed_at, plan.executed_by_id = ErasurePlanStatus.EXECUTED, now, \
            actor.id if actor else None
    done = [i for i in todo if i.executed_at is not None]
    audit_record("erasure.executed" if not left else "erasure.execution_incomplete", actor=actor, now=now,
                 case=case, after={
                     "plan_id": plan.id, "erased": len(done), "held_since_approval": len(held),
                     "kept": sum(1 for i in plan.items if i.action is Action.KEEP),
                     "per_source": {s: sum(1 for i in done if i.source == s) for s in sorted({i.source for i in done})},
                     "failed": failed, "left": len(left)})
    return failed
