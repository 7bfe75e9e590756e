"""Art. 22 requests: recording what the subject asks about which decision, and the human review.

Art. 22(3): where a decision based solely on automated processing is allowed, the subject has "at least the
right to obtain human intervention on the part of the controller, to express his or her point of view and
to contest the decision". dsr records the request (:func:`record_request`) and the review a person did
(:func:`record_review`: who, on which day, the decision upheld or changed, a text for the subject, and that
the subject's view was considered when they gave one). A case that invokes the right cannot be completed
before both are recorded (the obligation registered below); the answer letter states them
(``completion_automated``), and the controller's declaration says whether such decisions are taken at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.audit.labels import ACTION_LABELS
from dsr.audit.operations import record
from dsr.automated.declaration import load_declaration
from dsr.automated.models import AutomatedDecisionRequest, ReviewOutcome, request_of
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.cases.guards import WRITERS, require_open, require_role
from dsr.cases.models import Case
from dsr.cases.obligations import Obligation, register
from dsr.domain.enums import Right
from dsr.extensions import db
from dsr.texts.models import TextPurpose
from dsr.texts.operations import save_texts

ACTION_LABELS["automated.request_recorded"] = _l("Request about an automated decision recorded (Art. 22)")
ACTION_LABELS["automated.review_recorded"] = _l("Human review of an automated decision recorded (Art. 22(3))")
TEXT_MAX = 4000
REVIEWER_MAX = 200


def _text(value: str | None, field: str, message: str, *, required: bool = True, limit: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(message, field)
    if len(value) > limit:
        raise InvalidInput(_("At most %(n)s characters.", n=limit), field)
    return value


def record_request(case: Case, *, decision_id: str | None, described: str, decided_on: date | None,
                   human_intervention: bool, express_view: bool, contest: bool, subject_view: str = "",
                   actor, now: datetime, today: date, config=None, subject_texts: Mapping[str, str] | None = None,
                   view_texts: Mapping[str, str] | None = None) -> AutomatedDecisionRequest:
    """Record (or correct, until the review is recorded) which decision the request concerns and what is asked.

    ``described`` and ``subject_view`` are the case file's record; the letter quotes the texts for the subject
    in its language (issue 14.2): the decision concerned (``subject_texts``) and the view the subject gave
    (``view_texts``), each ``{language: text}``, or written later on the case's texts page.

    ``decision_id`` is a decision of the controller's declaration, or empty when the subject names one the
    declaration does not list (or the controller declares none): the request is recorded and answered all
    the same, and the letter says what the declaration says.
    """
    require_role(actor, *WRITERS, what=_l("record a request about an automated decision"))
    require_open(case, _l("record a request about an automated decision"))
    if Right.AUTOMATED_DECISION not in case.right_values:
        raise RuleViolation(_("%(ref)s does not invoke the right not to be subject to automated decisions "
                              "(Art. 22).", ref=case.reference))
    decision_id = (decision_id or "").strip() or None
    if decision_id is not None and load_declaration(config).get(decision_id) is None:
        raise InvalidInput(_("%(id)s is not a decision the controller has declared.", id=decision_id), "decision_id")
    described = _text(described, "described", _("Describe the decision the subject asks about (what, and when)."))
    if not (human_intervention or express_view or contest):
        raise InvalidInput(_("Tick what the subject asks: human intervention, to express their view, or to "
                             "contest the decision."), "human_intervention")
    subject_view = _text(subject_view, "subject_view", _("Write down the view the subject expressed."),
                         required=express_view)
    if decided_on is not None and decided_on > today:
        raise InvalidInput(_("The day of the decision cannot be in the future."), "decided_on")
    request = request_of(case)
    if request is not None and request.reviewed:
        raise RuleViolation(_("The review of this decision is recorded; the request can no longer be changed."))
    values = {"decision_id": decision_id, "decision_described": described, "decided_on": decided_on,
              "human_intervention": bool(human_intervention), "express_view": bool(express_view),
              "contest": bool(contest), "subject_view": subject_view}
    before = None
    if request is None:
        request = AutomatedDecisionRequest(case_id=case.id, **values)
        db.session.add(request)
    else:
        before = {k: getattr(request, k) for k in values}
        for key, value in values.items():
            setattr(request, key, value)
    request.recorded_by_id, request.recorded_at = (actor.id if actor else None), now
    db.session.flush()
    record("automated.request_recorded", actor=actor, now=now, case=case, before=before,
           after={"request_id": request.id, **values})
    save_texts(case, TextPurpose.AUTOMATED_DECISION, 0, subject_texts, actor=actor, now=now)
    save_texts(case, TextPurpose.AUTOMATED_VIEW, 0, view_texts, actor=actor, now=now)
    return request


def record_review(case: Case, *, reviewer: str, reviewed_on: date | None, outcome: ReviewOutcome | str,
                  outcome_text: str, view_considered: bool, actor, now: datetime,
                  today: date, subject_texts: Mapping[str, str] | None = None,
                  reviewer_texts: Mapping[str, str] | None = None) -> AutomatedDecisionRequest:
    """Record the human review: who reviewed the decision (name and function), when, and the outcome.

    ``reviewer`` and ``outcome_text`` are the case file's record (who reviewed it; why the decision stands, or
    what changed); the letter quotes the texts for the subject in its language, each ``{language: text}`` or
    written later on the case's texts page: the outcome (``subject_texts``) and the reviewer as the letter
    names them, with their function in the letter's language (``reviewer_texts``).
    A view the subject expressed must have been considered (Art. 22(3)): the review is refused otherwise.
    """
    require_role(actor, *WRITERS, what=_l("record the review of an automated decision"))
    require_open(case, _l("record the review of an automated decision"))
    request = request_of(case)
    if request is None:
        raise RuleViolation(_("Record first which decision the request concerns and what the subject asks."))
    reviewer = _text(reviewer, "reviewer", _("Name the person who reviewed the decision, with their function."),
                     limit=REVIEWER_MAX)
    try:
        outcome = ReviewOutcome(outcome)
    except ValueError:
        raise InvalidInput(_("Choose the outcome: the decision upheld or changed."), "outcome") from None
    outcome_text = _text(outcome_text, "outcome_text", _("Write the outcome for the subject: why the decision "
                                                         "stands, or how it was changed."))
    if reviewed_on is None:
        raise InvalidInput(_("Give the day of the review."), "reviewed_on")
    if reviewed_on > today:
        raise InvalidInput(_("The day of the review cannot be in the future."), "reviewed_on")
    if reviewed_on < case.received_on:
        raise InvalidInput(_("The day of the review cannot be before the request was received."), "reviewed_on")
    if request.express_view and not view_considered:
        raise RuleViolation(_("The subject expressed their view: the reviewer must have considered it before the "
                              "review is recorded (Art. 22(3))."))
    values = {"reviewer": reviewer, "reviewed_on": reviewed_on, "outcome": outcome, "outcome_text": outcome_text,
              "view_considered": bool(view_considered) if request.express_view else None}
    before = {k: getattr(request, k) for k in values} if request.reviewed else None
    for key, value in values.items():
        setattr(request, key, value)
    request.review_recorded_by_id, request.review_recorded_at = (actor.id if actor else None), now
    db.session.flush()
    record("automated.review_recorded", actor=actor, now=now, case=case, before=before,
           after={"request_id": request.id, **values})
    save_texts(case, TextPurpose.AUTOMATED_REVIEWER, 0, reviewer_texts, actor=actor, now=now)
    save_texts(case, TextPurpose.AUTOMATED_OUTCOME, 0, subject_texts, actor=actor, now=now)
    return request


def open_obligations(case: Case, today: date | None = None) -> list[Obligation]:
    """What an Art. 22 case still lacks before completion: the request recorded, then the human review."""
    if Right.AUTOMATED_DECISION not in case.right_values:
        return []
    request = request_of(case)
    if request is None:
        return [Obligation("automated.request_missing", _(
            "Record which decision the Art. 22 request concerns and what the subject asks."))]
    if not request.reviewed:
        return [Obligation("automated.review_missing", _(
            "A person has not yet reviewed the automated decision: record who reviewed it, when and the "
            "outcome (Art. 22(3))."))]
    return []


register("automated", open_obligations, order=37)
