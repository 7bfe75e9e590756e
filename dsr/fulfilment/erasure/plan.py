"""Building, deciding and approving an erasure plan (Art. 17(1), 17(3)).

:func:`build_erasure_plan` turns a *confirmed* lookup into one item per record, decided by the retention
rules (:mod:`dsr.domain.retention`): erase, anonymise, keep with the rule, basis, article and erase-on date,
or ``review`` where no rule covers the record. A record the lookup found reached from another person too
is ``shared`` and ``review`` whatever the rules say, unless a rule keeps it. Each manual source becomes a
task for a person: destroy the paper file, or instruct the processor to erase (Art. 28(3)(g)).

The privacy manager decides every review item (:func:`decide_item`: keep, or erase; a shared record is
erased only in the subject's own fields) and then approves the plan (:func:`approve_plan`): the legal
decision. With four eyes on (``ERASURE_FOUR_EYES``, the default), the approver is not the builder.
Execution (:mod:`dsr.fulfilment.erasure.execute`) only carries it out.
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
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.cases.guards import WRITERS, require_open, require_role
from dsr.cases.models import Case
from dsr.datamap import erase as datamap_erase
from dsr.datamap import lookup as datamap_lookup
from dsr.datamap.sources import DataMapError, Source, SourceKind, load_sources
from dsr.domain.enums import ErasureItemKind, ErasurePlanStatus, LookupMatch, Right, Role
from dsr.domain.retention import Action
from dsr.extensions import db
from dsr.fulfilment.erasure.deciding import Entry, decide_entries, outcomes, rules_version
from dsr.fulfilment.erasure.texts import KEPT_BY_DECISION, TASK_TEXTS, kept_by_decision, outcome_basis
from dsr.fulfilment.holds import RecordRef
from dsr.fulfilment.lookup_ops import latest_lookup
from dsr.fulfilment.models import ErasurePlan, ErasurePlanItem, Lookup
from dsr.settings import settings
from dsr.texts.models import TEXT_LANGUAGES, TextPurpose
from dsr.texts.operations import save_text, save_texts
from dsr.timeutil import local_date

REASON_MAX = 2000


def record_items(plan: ErasurePlan) -> list[ErasurePlanItem]:
    return [i for i in plan.items if not i.is_task]


def case_closed_on(case: Case) -> date | None:
    return local_date(case.closed_at) if case.closed_at is not None else None


def _task_items(lookup: Lookup, sources: Mapping[str, Source], version: str) -> list[ErasurePlanItem]:
    """One task per manual source the lookup asked a person to search: a paper file, or a processor."""
    items = []
    for key in sorted(lookup.manual_tasks or {}):
        source = sources.get(key)
        if source is None or source.kind is not SourceKind.MANUAL:
            continue
        kind = ErasureItemKind.PROCESSOR if source.processor else ErasureItemKind.PAPER
        texts = TASK_TEXTS[kind.value]
        items.append(ErasurePlanItem(
            kind=kind, source=key, collection="", primary_key={}, action=Action.ERASE, rule_id=kind.value,
            basis=texts["basis"]["en"], article=texts["article"], rules_version=version))
    return items


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
    if any(p.status is not ErasurePlanStatus.DRAFT for p in earlier):
        raise RuleViolation(_("An approved erasure plan is waiting to be executed; execute it first."))
    for draft in earlier:
        db.session.delete(draft)
    config = settings(config)
    sources = load_sources(config)
    found = [f for f in lookup.records if f.source in sources and sources[f.source].kind is SourceKind.SQL]
    # ``shared``/``shared_reason`` are the lookup's (issue 13, item 2): absent, nothing is shared.
    entries = [Entry(RecordRef.of(f), f.categories, f.record_date, shared=bool(getattr(f, "shared", False)),
                     shared_reason=getattr(f, "shared_reason", None)) for f in found]
    try:
        decide_entries(entries, sources, case.subject_id, config, today, case_closed_on(case))
    except (DataMapError, sa.exc.SQLAlchemyError) as exc:
        raise RuleViolation(_("The records could not be read to plan their erasure: %(error)s",
                              error=str(getattr(exc, "orig", None) or exc).splitlines()[0])) from exc
    version = rules_version(config)
    plan = ErasurePlan(case_id=case.id, lookup_id=lookup.id, status=ErasurePlanStatus.DRAFT, built_at=now,
                       built_by_id=actor.id if actor else None)
    items = []
    for e, f, o in zip(entries, found, outcomes(entries, sources), strict=True):
        item = ErasurePlanItem(
            kind=ErasureItemKind.RECORD, source=e.ref.source, collection=e.ref.collection,
            primary_key=dict(e.ref.primary_key), record_date=f.record_date, action=o.action, rule_id=o.rule_id,
            basis=o.basis, article=o.article, erase_on=o.erase_on, until=o.until, breach=o.breach,
            rules_version=version)
        if e.shared:
            item.shared, item.shared_reason = True, e.shared_reason or "reached from another person"
        items.append(item)
    plan.items = items + _task_items(lookup, sources, version)
    db.session.add(plan)
    db.session.flush()
    audit_record("erasure.planned", actor=actor, now=now, case=case, after={
        "plan_id": plan.id, "lookup_id": lookup.id, "replaced": [p.id for p in earlier], **counts(plan.items)})
    return plan


def counts(items: Sequence[ErasurePlanItem]) -> dict[str, Any]:
    """The plan in numbers for the audit trail: items per action, shared, tasks, breaches; never a value."""
    records = [i for i in items if not i.is_task]
    per_action = {a.value: sum(1 for i in records if i.action is a) for a in Action}
    return {"items": per_action, "shared": sum(1 for i in records if i.shared),
            "tasks": sum(1 for i in items if i.is_task), "breaches": sum(1 for i in records if i.breach)}


def _require_draft(plan: ErasurePlan, actor: User | None, what) -> None:
    if actor is None:
        raise NotAllowed(_("Only a privacy manager may decide an erasure plan."))
    require_role(actor, Role.PRIVACY_MANAGER, what=what)
    require_open(plan.case, what)
    if plan.status is not ErasurePlanStatus.DRAFT:
        raise RuleViolation(_("This erasure plan was already approved."))


def _own_fields(item: ErasurePlanItem, plan: ErasurePlan, config: Mapping[str, Any]) -> list[str]:
    """The fields of a shared record that are the subject's alone: identity fields holding their value."""
    source = load_sources(config)[item.source]
    coll = source.collection(item.collection)
    wanted = {k: str(v).casefold() for k, v in datamap_lookup.normalise_identities(
        plan.lookup.identities or {}).items()}
    engine = datamap_lookup.readonly_engines([source], config)[source.key]
    try:
        with engine.connect() as conn:
            table = datamap_erase.reflect(conn, source)[coll.name]
            row = datamap_erase.read_row(conn, table, item.primary_key) or {}
            conn.rollback()
    finally:
        engine.dispose()
    return [f.name for f in coll.fields if f.identity in wanted and row.get(f.name) is not None
            and " ".join(str(row[f.name]).split()).casefold() == wanted[f.identity]]


def _rule_title(rule_id: str) -> str:
    """A retention rule by its title in the interface's language (its id only when the rules lack it)."""
    from dsr.domain.retention_rules import load_rules
    from dsr.timeutil import interface_language

    rule = next((r for r in load_rules().rules if r.id == rule_id), None)
    return rule.title_in(interface_language()) if rule is not None else rule_id


def decide_item(item: ErasurePlanItem, *, action: str, reason: str, actor: User | None, now: datetime,
                config: Mapping[str, Any] | None = None,
                subject_texts: Mapping[str, str] | None = None) -> ErasurePlanItem:
    """The privacy manager decides one record item of a draft plan: ``keep`` or ``erase``, with a reason.

    ``reason`` is the case file's record. A record kept is explained in the letters by the text for the
    subject in the letter's language (``subject_texts``: ``{language: text}``, or written later on the case's
    texts page); deciding again with another reason removes the texts written for the earlier one.

    Any record may be kept (a reason the rules do not know); only a review item may be erased (a record the
    rules keep stays kept: erasing it would break the duty the rule states). A shared record is erased
    only in the subject's own fields, the identity fields holding their value; one with none is refused:
    keep it. Audited as ``erasure.item_decided``.
    """
    plan = item.plan
    _require_draft(plan, actor, _l("decide an erasure plan item"))
    if item.is_task:
        raise RuleViolation(_("A paper file or a processor is a task: record it as done or impossible."))
    if action not in ("keep", "erase"):
        raise InvalidInput(_("Choose keep or erase."), "action")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for the decision: it is the case file's record."), "reason")
    if len(reason) > REASON_MAX:
        raise InvalidInput(_("The reason is longer than %(num)d characters.", num=REASON_MAX), "reason")
    before = {"action": item.action.value, "rule": item.rule_id}
    if action == "keep":
        if kept_by_decision(item) and item.decision_reason != reason:
            for language in TEXT_LANGUAGES:  # written for the earlier reason: no longer what the letter may say
                save_text(plan.case, TextPurpose.ERASURE_KEPT, item.id, language, "", actor=actor, now=now)
        item.action, item.erase_on = Action.KEEP, None
        item.basis = outcome_basis(KEPT_BY_DECISION, reason=reason)
        item.until = "kept by the privacy manager's decision"
    elif item.action is not Action.REVIEW:
        raise RuleViolation(_("Only a record put to review can be erased by decision; this one is decided by "
                              "the rule “%(rule)s”.", rule=_rule_title(item.rule_id)))
    elif item.shared:
        fields = _own_fields(item, plan, settings(config))
        if not fields:
            raise RuleViolation(_("No field of this record is the subject's alone: it is also another person's. "
                                  "Keep it."))
        item.action, item.only_fields = Action.ANONYMISE, fields
        item.until = f"shared with another person: only the subject's own fields ({', '.join(fields)}) are erased"
    else:
        item.action = Action.ERASE
    item.decided_at, item.decided_by_id, item.decision_reason = now, actor.id, reason
    audit_record("erasure.item_decided", actor=actor, now=now, case=plan.case, after={
        "plan_id": plan.id, "item_id": item.id, "decision": action, "before": before,
        "action": item.action.value, "only_fields": item.only_fields, "reason": reason})
    if action == "keep":
        save_texts(plan.case, TextPurpose.ERASURE_KEPT, item.id, subject_texts, actor=actor, now=now)
    return item


def approve_plan(plan: ErasurePlan, *, actor: User | None, now: datetime,
                 config: Mapping[str, Any] | None = None) -> None:
    """A privacy manager approves the plan: the legal decision on what is erased and what is kept.

    Refused while an item is undecided (review, shared), and, with four eyes on, by the one who built it.
    """
    if actor is None:
        raise NotAllowed(_("Only a privacy manager may approve an erasure plan."))
    _require_draft(plan, actor, _l("approve an erasure plan"))
    undecided = sum(1 for i in record_items(plan) if i.undecided)
    if undecided:
        raise RuleViolation(_("%(num)d records are put to review (no retention rule applies, or shared with "
                              "another person): keep or erase each before approving.", num=undecided))
    if settings(config).get("ERASURE_FOUR_EYES", True) and plan.built_by_id == actor.id:
        raise NotAllowed(_("Four eyes: another privacy manager than the one who built this plan approves it."))
    plan.status, plan.approved_at, plan.approved_by_id = ErasurePlanStatus.APPROVED, now, actor.id
    audit_record("erasure.approved", actor=actor, now=now, case=plan.case,
                 after={"plan_id": plan.id, **counts(plan.items)})
