"""Erasure (GDPR Art. 17; issue 4, item 5): a plan per record, approved by the privacy manager, then applied.

:func:`build_erasure_plan` turns a *confirmed* lookup into one decision per record by the retention rules
(:mod:`dsr.domain.retention`): erase, anonymise, or keep with the rule, basis, article and erase-on date.
The privacy manager approves it (:func:`approve_plan`); then a privacy manager or staff member executes it
(:func:`execute_plan`): the approval is the legal decision, execution only carries it out. Execution runs
one transaction per source on a writable engine, checks the legal-hold guard again for every record (a
hold placed after approval still wins, Art. 17(3)(e)), applies the data map's erase strategy (delete the
row, set fields null, mask them) and records on each item what was erased: field names, never values.

Kept records stay listed with their reason and erase-on date; :func:`erase_due_items`, run daily
(``flask --app wsgi dsr erase-due``), decides them again when their date comes and erases those now due,
noting it on the case (DESIGN.md, "Retention and exemptions").

A record a kept record still refers to (a policy its kept invoices point at) is not deleted before it:
it is kept under ``referenced`` until the referring record's own erase-on date.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.audit.operations import jsonable
from dsr.audit.operations import record as audit_record
from dsr.auth.models import User
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.cases.lifecycle import WRITERS, require_open, require_role
from dsr.cases.models import Case
from dsr.datamap import erase as datamap_erase
from dsr.datamap import lookup as datamap_lookup
from dsr.datamap.sources import DataMapError, Source, SourceKind, load_sources
from dsr.domain.enums import ErasurePlanStatus, Right, Role
from dsr.domain.retention import Action, Decision, RecordFacts, decide
from dsr.domain.retention_rules import Rule, load_rules
from dsr.extensions import db
from dsr.fulfilment.holds import RecordHeld, RecordRef, active_holds_for, refuse_if_held
from dsr.fulfilment.lookup_ops import _as_date, latest_lookup
from dsr.fulfilment.models import ErasurePlan, ErasurePlanItem, Lookup
from dsr.objection.operations import suppress_for_erasure

log = logging.getLogger(__name__)

REFERENCED = "referenced"
HELD_SINCE_APPROVAL = "held-since-approval"
_CONTRACT_TAGS = frozenset({"customer", "policy", "device", "claim"})

# Outcomes that are not a rule of rules.yml, with their title and basis per language. The plan stores the
# English basis as the case file's record (as it stores the rules' English basis); a letter or page in
# another language shows the text in its own language (:func:`outcome_texts`). ``{names}`` are the kept
# records' keys, ``{reason}`` the hold's reason as the privacy manager typed it.
OUTCOME_TEXTS: dict[str, dict[str, dict[str, str]]] = {
    REFERENCED: {
        "title": {"en": "Linked to records that are kept", "nl": "Gekoppeld aan records die worden bewaard",
                  "fr": "Lié à des enregistrements conservés"},
        "basis": {"en": "Still referred to by records that are kept ({names}); deleted once they are.",
                  "nl": "Records die worden bewaard ({names}) verwijzen hier nog naar; wordt gewist zodra die "
                        "zijn gewist.",
                  "fr": "Des enregistrements conservés ({names}) y font encore référence\u202f; effacé dès que "
                        "ceux-ci le sont."},
    },
    HELD_SINCE_APPROVAL: {  # kept under the legal-hold rule (Art. 17(3)(e)), placed after approval
        "title": {"en": "Legal hold (dispute, claim in court)", "nl": "Juridische bewaarplicht (geschil, procedure)",
                  "fr": "Conservation pour litige (différend, procédure judiciaire)"},
        "basis": {"en": "Placed under a legal hold after the plan was approved: {reason}",
                  "nl": "Na goedkeuring van het wisplan onder een juridische bewaarplicht geplaatst: {reason}",
                  "fr": "Placé sous une mesure de conservation pour litige après l'approbation du plan "
                        "d'effacement\u202f: {reason}"},
    },
}


def _outcome_basis(outcome: str, **values: str) -> str:
    """The English basis the plan stores for ``outcome``."""
    return OUTCOME_TEXTS[outcome]["basis"]["en"].format(**values)


def _read_back(template: str, stored: str) -> dict[str, str] | None:
    """The values an English ``template`` was filled with to give ``stored``; None if it did not."""
    parts = re.split(r"\{(\w+)\}", template)
    pattern = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*)" for i, p in enumerate(parts))
    match = re.fullmatch(pattern, stored, flags=re.DOTALL)
    return match.groupdict() if match else None


def outcome_texts(rule_id: str | None, basis: str | None, language: str,
                  rules: Mapping[str, Rule]) -> tuple[str | None, str | None]:
    """``(title, basis)`` of a plan item in ``language`` (nl, en, fr), for a letter or a page.

    An outcome of :data:`OUTCOME_TEXTS` is recognised by its stored English text and worded again in
    ``language``; otherwise the rule ``rule_id`` of ``rules`` gives its own title and basis. Only a rule that
    no longer exists falls back to the stored text (and no title).
    """
    for texts in OUTCOME_TEXTS.values():
        values = _read_back(texts["basis"]["en"], basis or "")
        if values is not None:
            lang = language if language in texts["basis"] else "en"
            return texts["title"][lang], texts["basis"][lang].format(**values)
    rule = rules.get(rule_id or "")
    if rule is not None:
        return rule.title_in(language), rule.basis_in(language)
    return None, basis


@dataclass
class _Entry:
    """One record being decided: where it is, what the lookup knew of it, its row (None: gone)."""

    ref: RecordRef
    categories: Sequence[str]
    record_date: date | None
    row: dict[str, Any] | None = None
    decision: Decision | None = None


# -- deciding ---------------------------------------------------------------------------------------------

def _contract_facts(conn, tables: Mapping[str, sa.Table], tags: frozenset[str], row: Mapping | None):
    """``(policy_active, claim_open)`` for customer, policy, device and claim records; ``None`` when unknown
    (the record is then kept for review, never erased on a guess)."""
    policies, claims = tables.get("policies"), tables.get("claims")
    if row is None or not tags & _CONTRACT_TAGS or policies is None or claims is None:
        return None, None
    if "customer" in tags:
        ids = list(conn.execute(sa.select(policies.c.id).where(policies.c.customer_id == row["id"])).scalars())
    else:
        ids = [row["id"] if "policy" in tags else row.get("policy_id")]
    active = conn.execute(sa.select(sa.func.count()).select_from(policies).where(
        policies.c.id.in_(ids), policies.c.status == "active")).scalar() > 0
    if "claim" in tags:
        return active, row.get("status") == "open"
    open_claims = conn.execute(sa.select(sa.func.count()).select_from(claims).where(
        claims.c.policy_id.in_(ids), claims.c.status == "open")).scalar()
    return active, open_claims > 0


def _decide(entries: list[_Entry], sources: Mapping[str, Source], subject_id: int | None,
            config: Mapping[str, Any], today: date) -> None:
    """Read each record's facts through a read-only connection, add the holds, and decide (Art. 17(3))."""
    facts: list[RecordFacts] = []
    holds = active_holds_for([e.ref for e in entries], subject_id)
    by_source: dict[str, list[int]] = {}
    for index, entry in enumerate(entries):
        by_source.setdefault(entry.ref.source, []).append(index)
    found: dict[int, RecordFacts] = {}
    for key, indexes in sorted(by_source.items()):
        source = sources[key]
        engine = datamap_lookup.readonly_engines([source], config)[key]
        try:
            with engine.connect() as conn:
                tables = datamap_erase.reflect(conn, source)
                for i in indexes:
                    entry = entries[i]
                    coll = source.collection(entry.ref.collection)
                    entry.row = datamap_erase.read_row(conn, tables[coll.name], entry.ref.primary_key)
                    policy_active, claim_open = _contract_facts(conn, tables, frozenset(coll.tags), entry.row)
                    until = entry.row.get(coll.retention_until) if entry.row and coll.retention_until else None
                    found[i] = RecordFacts(
                        source=key, collection=coll.name, key=entry.ref.text, tags=coll.tags,
                        categories=entry.categories, dated_on=entry.record_date, policy_active=policy_active,
                        claim_open=claim_open, legal_hold=holds[i].reason if holds[i] is not None else None,
                        retention_until=_as_date(until))
                conn.rollback()
        finally:
            engine.dispose()
    facts = [found[i] for i in range(len(entries))]
    for entry, decision in zip(entries, decide(facts, load_rules(), today), strict=True):
        entry.decision = decision


@dataclass(frozen=True)
class _Outcome:
    """An entry's final say: the decision's fields, or ``referenced`` when a kept record points at it."""

    action: Action
    rule_id: str
    basis: str
    article: str
    erase_on: date | None
    until: str | None
    breach: bool


def _outcomes(entries: list[_Entry], sources: Mapping[str, Source]) -> list[_Outcome]:
    """The decisions, with rows that kept rows refer to kept too, until the last referrer's erase-on date."""
    outcomes = [_Outcome(d.action, d.rule_id, d.basis, d.article, d.erase_on, d.until, d.breach)
                for d in (e.decision for e in entries)]
    changed = True
    while changed:
        changed = False
        referrers: dict[tuple, list[int]] = {}
        for i, entry in enumerate(entries):
            if outcomes[i].action is Action.KEEP and entry.row is not None:
                source = sources[entry.ref.source]
                for coll, fld, value in datamap_erase.referenced_keys(
                        source, source.collection(entry.ref.collection), entry.row):
                    referrers.setdefault((entry.ref.source, coll, fld, str(value)), []).append(i)
        for i, entry in enumerate(entries):
            if outcomes[i].action is Action.KEEP or entry.row is None:
                continue
            coll = sources[entry.ref.source].collection(entry.ref.collection)
            if not datamap_erase.strategy(coll)[0]:
                continue  # fields are rewritten, the row stays: references to it still hold
            by = sorted({j for name, value in entry.row.items()
                         for j in referrers.get((entry.ref.source, coll.name, name, str(value)), [])})
            if by:
                dates = [outcomes[j].erase_on for j in by]
                names = ", ".join(entries[j].ref.text for j in by[:5]) + (" …" if len(by) > 5 else "")
                outcomes[i] = _Outcome(
                    Action.KEEP, REFERENCED,
                    _outcome_basis(REFERENCED, names=names),
                    outcomes[i].article, None if None in dates else max(dates), f"while {names} is kept",
                    outcomes[i].breach)
                changed = True
    return outcomes


# -- the plan ---------------------------------------------------------------------------------------------

def _config(config):
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
    if lookup.match != "confirmed":
        raise RuleViolation(_("Confirm that the records found are this person's before planning their erasure."))
    earlier = list(db.session.execute(sa.select(ErasurePlan).where(
        ErasurePlan.case_id == case.id, ErasurePlan.status != ErasurePlanStatus.EXECUTED)).scalars())
    if any(p.status is ErasurePlanStatus.APPROVED for p in earlier):
        raise RuleViolation(_("An approved erasure plan is waiting to be executed; execute it first."))
    for draft in earlier:
        db.session.delete(draft)
    sources = load_sources(_config(config))
    entries = [_Entry(RecordRef.of(f), f.categories, f.record_date) for f in lookup.records
               if f.source in sources and sources[f.source].kind is SourceKind.SQL]
    try:
        _decide(entries, sources, case.subject_id, _config(config), today)
    except (DataMapError, sa.exc.SQLAlchemyError) as exc:
        raise RuleViolation(_("The records could not be read to plan their erasure: %(error)s",
                              error=str(getattr(exc, "orig", None) or exc).splitlines()[0])) from exc
    plan = ErasurePlan(case_id=case.id, lookup_id=lookup.id, status=ErasurePlanStatus.DRAFT, built_at=now,
                       built_by_id=actor.id if actor else None)
    plan.items = [ErasurePlanItem(
        source=e.ref.source, collection=e.ref.collection, primary_key=dict(e.ref.primary_key), action=o.action,
        rule_id=o.rule_id, basis=o.basis, article=o.article, erase_on=o.erase_on, until=o.until, breach=o.breach)
        for e, o in zip(entries, _outcomes(entries, sources), strict=True)]
    db.session.add(plan)
    db.session.flush()
    audit_record("erasure.planned", actor=actor, now=now, case=case, after={
        "plan_id": plan.id, "lookup_id": lookup.id, "replaced": [p.id for p in earlier], **_counts(plan.items)})
    return plan


def _counts(items: Sequence[ErasurePlanItem]) -> dict[str, Any]:
    counts = {a.value: sum(1 for i in items if i.action is a) for a in Action}
    return {"items": counts, "breaches": sum(1 for i in items if i.breach)}


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
                 after={"plan_id": plan.id, **_counts(plan.items)})


# -- applying it ------------------------------------------------------------------------------------------

def _apply(items: Sequence[ErasurePlanItem], sources: Mapping[str, Source], config: Mapping[str, Any],
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
                    results[item.id] = note + _result_text(done)
        except (DataMapError, sa.exc.SQLAlchemyError) as exc:
            failed[key] = (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]
            continue
        finally:
            if engine is not None:
                engine.dispose()
        for item in group:
            item.result, item.executed_at = results[item.id], now
    return failed


def _result_text(done: Mapping[str, Any]) -> str:
    # Stored on the item as the case file's record; English, as the rules' texts are.
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
    config = _config(config)
    todo, held = [], []
    for item in plan.items:
        if item.action is Action.KEEP or item.executed_at is not None:
            continue
        try:
            refuse_if_held(RecordRef(item.source, item.collection, item.primary_key), case.subject_id)
        except RecordHeld as exc:
            item.action, item.rule_id, item.article = Action.KEEP, "legal-hold", "GDPR Art. 17(3)(e)"
            item.basis = _outcome_basis(HELD_SINCE_APPROVAL, reason=exc.hold.reason)
            item.erase_on, item.until = None, "until the legal hold is released"
            held.append(item)
            continue
        todo.append(item)
    # A rule with ``suppress: true`` (marketing) puts the subject on the suppression list, whatever happens
    # to the record itself; read before the rows are gone (Art. 21(3)).
    suppress_for_erasure(case, plan.items, actor=actor, now=now, config=config)
    failed = _apply(todo, load_sources(config), config, now)
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
    config = _config(config)
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
            entries.append(_Entry(ref, f.categories if f else [], f.record_date if f else None))
        try:
            _decide(entries, sources, plan.case.subject_id, config, today)
        except (DataMapError, sa.exc.SQLAlchemyError, KeyError) as exc:
            # One plan whose source is down or no longer in the data map must not stop the others: it is
            # reported (and tried again on the next run), nothing of it is changed.
            problem = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            log.warning("erase-due: plan %s of %s not decided: %s", plan.id, plan.case.reference, problem)
            summaries.append({"case": plan.case.reference, "plan_id": plan.id, "erased": 0, "still_kept": len(pending),
                              "newly_dated": 0, "records": [], "failed": {"decide": problem}})
            continue
        to_erase, still, dated = [], [], []
        for item, entry, outcome in zip(pending, entries, _outcomes(entries, sources), strict=True):
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
        failed = _apply(to_erase, sources, config, now, note=f"erased on {today.isoformat()}: ")
        done = [i for i in to_erase if i.executed_at is not None]
        summary = {"plan_id": plan.id, "erased": len(done), "still_kept": len(still), "newly_dated": len(dated),
                   "records": [f"{i.source}/{i.collection}/{i.key_text}" for i in done], "failed": failed}
        audit_record("erasure.scheduled", actor=None, now=now, case=plan.case, after=jsonable(summary))
        summaries.append({"case": plan.case.reference, **summary})
    return summaries
