"""Objections to processing on legitimate interests or a public task (GDPR Art. 21(1)): the balancing.

Art. 21(1): the subject may object "on grounds relating to his or her particular situation"; the
controller "shall no longer process the personal data unless the controller demonstrates compelling
legitimate grounds for the processing which override the interests, rights and freedoms of the data
subject or for the establishment, exercise or defence of legal claims". The burden is Harmony's, so a
rejection must say what those grounds are.

Two steps, as with erasure plans: staff (or the manager) record the objection, naming the processing (a
data-map collection processed on legitimate interests or a public task) and the subject's grounds as they
wrote them (:func:`record_objection`); the privacy manager alone decides (:func:`decide_objection`), since
it is a legal judgement Harmony answers for. Upheld: the processing stops, and a task says how (stop,
erase under Art. 17(1)(c), or restrict). Rejected: the reply becomes a (partial) refusal, with the
complaint route (Art. 12(4)); the reasons and Harmony's grounds are in the letter facts.

Direct marketing is not decided here: it stops at once (:mod:`dsr.objection.operations`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from dsr.audit.operations import record as audit_record
from dsr.auth.models import User
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.cases.guards import WRITERS, require_open, require_role
from dsr.cases.models import Case
from dsr.cases.obligations import Obligation, register
from dsr.datamap.sources import DataMapError, LegalBasis, load_sources
from dsr.domain.enums import Right, Role
from dsr.extensions import db
from dsr.fulfilment.statement import StatementError, load_statement
from dsr.objection.models import (
    MarketingStop,
    ObjectionDecision,
    ObjectionEffect,
    ObjectionOutcome,
    ObjectionStatus,
)
from dsr.settings import settings
from dsr.tasks import titles as task_titles
from dsr.tasks.operations import add_automatic_task

TEXT_MAX = 4000
OBJECTABLE = (LegalBasis.LEGITIMATE_INTERESTS, LegalBasis.PUBLIC_TASK)

# What the task for an upheld objection asks the assignee to do, written in the reader's language.
EFFECT_TASKS = {
    ObjectionEffect.STOP: _l("stop this processing for this person"),
    ObjectionEffect.ERASE: _l("erase this person's records of this processing (Art. 17(1)(c))"),
    ObjectionEffect.RESTRICT: _l("restrict this person's records of this processing: keep, do not use (Art. 18)"),
}
OBJECTION_TASK = "objection_upheld"


def _objection_task_title(params, language: str) -> str:
    """"Objection upheld: stop this processing for this person: Claims (purpose 4. ...)", the processing named
    as the data map and the statement name it in ``language`` (as recorded when it no longer exists)."""
    processing = processing_choices(language=language).get(params["processing"])
    return _("Objection upheld: %(effect)s: %(processing)s", effect=EFFECT_TASKS[ObjectionEffect(params["effect"])],
             processing=processing.name if processing is not None else params["name"])


task_titles.register(OBJECTION_TASK, _objection_task_title)


@dataclass(frozen=True)
class Processing:
    """A processing one may object to under Art. 21(1): a data-map collection and its statement purposes."""

    key: str  # "source/collection"
    name: str
    legal_basis: str
    purposes: tuple[int, ...]


# "(purpose 7. Improving services)" in each language a letter is written in.
PURPOSE_WORD = {"en": "purpose", "nl": "doel", "fr": "finalité"}


def processing_choices(config: Mapping[str, Any] | None = None,
                       language: str | None = None) -> dict[str, Processing]:
    """Every collection of the data map processed on legitimate interests or a public task, named with its
    source and the privacy statement's purposes (statement.yml), in a stable order.

    Without ``language`` the names are the English ones stored on an objection as the case file's record;
    with one (nl, en, fr), the data map's and the statement's names in that language, for a letter."""
    config = settings(config)
    try:
        sources = load_sources(config)
    except DataMapError:
        return {}
    try:
        statement = load_statement()
        titles = {p.number: p.title[language or "en"] for p in statement.purposes}
    except StatementError:
        titles = {}
    choices: dict[str, Processing] = {}
    for source in sorted(sources.values(), key=lambda s: s.name):
        for coll in source.collections:
            if coll.legal_basis not in OBJECTABLE:
                continue
            purposes = "; ".join(f"{n}. {titles.get(n, '?')}" for n in coll.purposes)
            if language is None:
                name = f"{source.name} · {coll.name.replace('_', ' ')}"
            else:
                name = f"{source.display_name(language)} · {coll.display_name(language)}"
            word = PURPOSE_WORD.get(language or "en", "purpose")
            name += f" ({word} {purposes})" if purposes else ""
            key = f"{source.key}/{coll.name}"
            choices[key] = Processing(key, name[:300], coll.legal_basis.value, tuple(coll.purposes))
    return choices


def _text(value: str | None, field: str, missing: str, required: bool = True) -> str | None:
    if not (value or "").strip():
        if required:
            raise InvalidInput(missing, field)
        return None
    if len(value) > TEXT_MAX:
        raise InvalidInput(_("At most %(n)d characters.", n=TEXT_MAX), field)
    return value


def record_objection(case: Case, *, processing: str, subject_grounds: str, actor: User | None, now: datetime,
                     config: Mapping[str, Any] | None = None) -> ObjectionDecision:
    """Record an objection under Art. 21(1) with the subject's grounds, for the privacy manager to decide.

    Staff or privacy manager; open cases that invoke the right to object. One pending objection per
    processing and case. Audited as ``objection.recorded`` with the processing, not the subject's grounds
    (they may describe health or family circumstances; they stay on the case, which can be erased).
    """
    if actor is None:
        raise NotAllowed(_("An objection is recorded by a person."))
    require_role(actor, *WRITERS, what=_l("record an objection"))
    require_open(case, _l("record an objection"))
    if Right.OBJECTION not in case.right_values:
        raise RuleViolation(_("This case does not invoke the right to object."))
    choice = processing_choices(config).get(processing or "")
    if choice is None:
        raise InvalidInput(_("Choose the processing objected to from the list: only processing on legitimate "
                             "interests or a public task can be objected to under Art. 21(1)."), "processing")
    grounds = _text(subject_grounds, "subject_grounds",
                    _("Write down the subject's grounds relating to their particular situation (or that they "
                      "gave none)."))
    pending = db.session.execute(sa.select(ObjectionDecision.id).where(
        ObjectionDecision.case_id == case.id, ObjectionDecision.processing == choice.key,
        ObjectionDecision.status == ObjectionStatus.PENDING)).first()
    if pending is not None:
        raise RuleViolation(_("An objection to this processing is already waiting for the privacy manager's "
                              "decision."))
    objection = ObjectionDecision(
        case_id=case.id, processing=choice.key, processing_name=choice.name, legal_basis=choice.legal_basis,
        purposes=list(choice.purposes), subject_grounds=grounds, recorded_at=now, recorded_by_id=actor.id,
        status=ObjectionStatus.PENDING)
    db.session.add(objection)
    db.session.flush()
    audit_record("objection.recorded", actor=actor, now=now, case=case, after={
        "objection_id": objection.id, "processing": choice.key, "legal_basis": choice.legal_basis})
    return objection


def decide_objection(objection: ObjectionDecision, *, outcome: ObjectionOutcome, reasons: str,
                     compelling_grounds: str | None, effect: ObjectionEffect | None, actor: User | None,
                     now: datetime, today) -> ObjectionDecision:
    """The privacy manager's balancing decision on a recorded objection (Art. 21(1)).

    Upheld needs the ``effect`` and, when the case has an assignee, gives them a task to carry it out.
    Rejected needs Harmony's ``compelling_grounds`` (or the legal claims) and the reasons: the reply then
    refuses in part, with the complaint route. Audited as ``objection.decided`` with outcome and reasons.
    """
    if actor is None:
        raise NotAllowed(_("Only a privacy manager may decide an objection."))
    require_role(actor, Role.PRIVACY_MANAGER, what=_l("decide an objection"))
    case = objection.case
    require_open(case, _l("decide an objection"))
    if not objection.is_pending:
        raise RuleViolation(_("This objection was already decided."))
    outcome = ObjectionOutcome(outcome)
    reasons = _text(reasons, "reasons", _("Give the reasons for the decision: they go into the reply."))
    grounds = _text(compelling_grounds, "compelling_grounds", "", required=False)
    if outcome is ObjectionOutcome.REJECTED:
        effect = None
        if grounds is None:
            raise InvalidInput(_("A rejection must state Harmony's compelling legitimate grounds that override "
                                 "the subject's interests, or the legal claims the data are needed for "
                                 "(Art. 21(1))."), "compelling_grounds")
    elif effect is None:
        raise InvalidInput(_("Say what happens to the processing now that the objection is upheld."), "effect")
    # One decision, all of it: the row changes only if it is still pending, so two managers deciding at
    # the same moment cannot mix their decisions (the second is told it was decided meanwhile).
    decided = db.session.execute(
        sa.update(ObjectionDecision)
        .where(ObjectionDecision.id == objection.id, ObjectionDecision.status == ObjectionStatus.PENDING)
        .values(status=ObjectionStatus.DECIDED, outcome=outcome, reasons=reasons, compelling_grounds=grounds,
                effect=ObjectionEffect(effect) if effect else None, decided_at=now, decided_by_id=actor.id)
        .execution_options(synchronize_session=False)).rowcount
    if decided != 1:
        raise RuleViolation(_("This objection was decided by someone else a moment ago; reload the case."))
    db.session.refresh(objection)
    task = None
    if objection.effect is not None:
        assignee = case.assignee if case.assignee is not None and case.assignee.active else None
        task = add_automatic_task(case, OBJECTION_TASK, {"effect": objection.effect.value,
                                                         "processing": objection.processing,
                                                         "name": objection.processing_name},
                                  assignee=assignee, actor=actor, now=now, today=today)
    # The decision's texts stay on the objection (the case file, which can be erased); the append-only
    # audit trail records who decided what, not the reasons, which may describe the subject's situation.
    audit_record("objection.decided", actor=actor, now=now, case=case, after={
        "objection_id": objection.id, "processing": objection.processing, "outcome": outcome,
        "effect": objection.effect, "reasons_given": bool(reasons), "compelling_grounds_given": bool(grounds),
        "task_id": task.id if task else None})
    return objection


def objections_for(case: Case) -> list[ObjectionDecision]:
    return list(db.session.execute(sa.select(ObjectionDecision).where(
        ObjectionDecision.case_id == case.id).order_by(ObjectionDecision.id)).scalars())


def open_obligations(case: Case, today: date | None = None) -> list[Obligation]:
    """What must still be done for an objection before the case can be completed (Art. 21), each as a
    sentence; empty when nothing is open or the case does not object. An objection is answered by stopping
    direct marketing completely, or by deciding every objection recorded, or both."""
    if Right.OBJECTION not in case.right_values:
        return []
    decisions = list(db.session.execute(
        sa.select(ObjectionDecision).where(ObjectionDecision.case_id == case.id)).scalars())
    stop = db.session.execute(sa.select(MarketingStop).where(MarketingStop.case_id == case.id)
                              .order_by(MarketingStop.id.desc()).limit(1)).scalar_one_or_none()
    problems: list[Obligation] = []
    pending = sum(1 for d in decisions if d.status is ObjectionStatus.PENDING)
    if pending:
        problems.append(Obligation("objection.decision_pending", ngettext(
            "%(num)d objection awaits the privacy manager's decision (Art. 21(1)).",
            "%(num)d objections await the privacy manager's decision (Art. 21(1)).", pending)))
    if stop is not None and not stop.complete:
        problems.append(Obligation("objection.marketing_stop_failed", _(
            "Stopping direct marketing failed in %(sources)s: stop it again (Art. 21(3)).",
            sources=", ".join(sorted(stop.failed)))))
    if stop is None and not decisions:
        problems.append(Obligation("objection.nothing_done", _(
            "Nothing was done about the objection yet: stop direct marketing, or record the objection and "
            "decide it (Art. 21).")))
    return problems


register("objection", open_obligations, order=30)
