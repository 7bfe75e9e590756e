"""The automated-decision card on an Art. 22 case's page and its two actions (staff and manager)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, g
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from dsr.auth.access import WRITERS, roles_required
from dsr.auth.models import User
from dsr.automated import operations as ops
from dsr.automated.declaration import LANGUAGES, load_declaration
from dsr.automated.models import ReviewOutcome
from dsr.cases.card_actions import perform_card_action
from dsr.cases.models import Case
from dsr.cases.queries import case_or_404
from dsr.texts.models import TextPurpose
from dsr.texts.picker import chosen_for, in_case_language, subject_text_area, subject_text_field
from dsr.timeutil import today

bp = Blueprint("automated", __name__)

OUTCOME_LABELS = {ReviewOutcome.UPHELD: _l("Decision upheld"), ReviewOutcome.CHANGED: _l("Decision changed")}
ASK_LABELS = {"human_intervention": _l("human intervention"), "express_view": _l("to express their view"),
              "contest": _l("to contest the decision")}


class RequestForm(FlaskForm):
    decision_id = SelectField(_l("Decision concerned"), validators=[Optional()])
    described = TextAreaField(_l("The decision as the subject describes it (what, when)"),
                              validators=[InputRequired(), Length(max=ops.TEXT_MAX)])
    decided_on = DateField(_l("Day of the decision (if known)"), validators=[Optional()])
    human_intervention = BooleanField(_l("Asks for human intervention"))
    express_view = BooleanField(_l("Expresses their view"))
    contest = BooleanField(_l("Contests the decision"))
    subject_view = TextAreaField(_l("The subject's view, as they gave it"), validators=[Length(max=ops.TEXT_MAX)])
    subject_text = subject_text_area()
    view_text = subject_text_area()


class ReviewForm(FlaskForm):
    reviewer = StringField(_l("Reviewed by (name and function; staff note, internal)"),
                           validators=[InputRequired(), Length(max=ops.REVIEWER_MAX)])
    reviewer_text = subject_text_area()
    reviewed_on = DateField(_l("Reviewed on"), validators=[InputRequired()])
    outcome = RadioField(_l("Outcome"), choices=[(o.value, OUTCOME_LABELS[o]) for o in ReviewOutcome],
                         validators=[InputRequired()])
    outcome_text = TextAreaField(_l("The outcome (staff note; the letter quotes the text for the subject)"),
                                 validators=[InputRequired(), Length(max=ops.TEXT_MAX)])
    view_considered = BooleanField(_l("The subject's view was considered in the review"))
    subject_text = subject_text_area()


def _decision_choices(lang: str) -> list[tuple[str, str]]:
    declared = load_declaration()
    return [("", _("Not a declared decision (describe it below)"))] + [
        (d.id, d.name[lang]) for d in declared.decisions]


def _lang() -> str:
    lang = str(get_locale() or "en")[:2]
    return lang if lang in LANGUAGES else "en"


def _request_form(formdata=...) -> RequestForm:
    form = RequestForm(prefix="adm") if formdata is ... else RequestForm(prefix="adm", formdata=formdata)
    form.decision_id.choices = _decision_choices(_lang())
    return form


@bp.app_context_processor
def _helpers():
    def automated_card(case: Case) -> dict:
        failed = g.get("automated_failed")
        request = ops.request_of(case)
        request_form = failed[1] if failed and failed[0] == "request" else _request_form(formdata=None)
        review_form = failed[1] if failed and failed[0] == "review" else ReviewForm(prefix="review", formdata=None)
        if not (failed and failed[0] == "request") and request is not None:
            for key in ("decision_id", "decided_on", "human_intervention", "express_view", "contest",
                        "subject_view"):
                getattr(request_form, key).data = getattr(request, key)
            request_form.decision_id.data = request.decision_id or ""
            request_form.described.data = request.decision_described
        if not (failed and failed[0] == "review"):
            review_form.reviewed_on.data = today()
            if request is not None and request.reviewed:
                review_form.reviewer.data = request.reviewer
                review_form.outcome.data = request.outcome.value
                review_form.outcome_text.data = request.outcome_text
        texts = {
            "decision": subject_text_field(case, TextPurpose.AUTOMATED_DECISION, "adm-decision",
                                           request_form.subject_text, what=_("The decision concerned"),
                                           current=True),
            "view": subject_text_field(case, TextPurpose.AUTOMATED_VIEW, "adm-view", request_form.view_text,
                                       what=_("The subject's view"), current=True),
            "reviewer": subject_text_field(case, TextPurpose.AUTOMATED_REVIEWER, "review-reviewer",
                                           review_form.reviewer_text, what=_("Reviewed by (name and function)"),
                                           current=True),
            "outcome": subject_text_field(case, TextPurpose.AUTOMATED_OUTCOME, "review-outcome",
                                          review_form.subject_text, what=_("The outcome"), current=True),
        }
        declaration = load_declaration()
        return {"request": request, "request_form": request_form, "review_form": review_form, "texts": texts,
                "texts_chosen": chosen_for(),
                "declaration": declaration, "declared": declaration.get(request.decision_id) if request else None,
                "lang": _lang(), "names": [d.name[_lang()] for d in declaration.decisions]}

    return {"automated_card": automated_card, "REVIEW_OUTCOMES": OUTCOME_LABELS, "ADM_ASKS": ASK_LABELS}


def _record_request(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    ops.record_request(case, decision_id=form.decision_id.data, described=form.described.data,
                       decided_on=form.decided_on.data, human_intervention=form.human_intervention.data,
                       express_view=form.express_view.data, contest=form.contest.data,
                       subject_view=form.subject_view.data, actor=actor, now=at, today=today(),
                       subject_texts=in_case_language(case, form.subject_text),
                       view_texts=in_case_language(case, form.view_text))
    return "success", _("Request about the automated decision recorded.")


def _record_review(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    ops.record_review(case, reviewer=form.reviewer.data, reviewed_on=form.reviewed_on.data,
                      outcome=form.outcome.data, outcome_text=form.outcome_text.data,
                      view_considered=form.view_considered.data, actor=actor, now=at, today=today(),
                      subject_texts=in_case_language(case, form.subject_text),
                      reviewer_texts=in_case_language(case, form.reviewer_text))
    return "success", _("Review recorded; the answer letter can now be issued.")


@bp.post("/cases/<reference>/automated-decision")
@roles_required(*WRITERS)
def record_request(reference: str):
    case = case_or_404(reference)
    return perform_card_action(case, "request", _request_form(), _record_request, failed_attr="automated_failed",
                               anchor="automated")


@bp.post("/cases/<reference>/automated-decision/review")
@roles_required(*WRITERS)
def record_review(reference: str):
    case = case_or_404(reference)
    return perform_card_action(case, "review", ReviewForm(prefix="review"), _record_review,
                               failed_attr="automated_failed", anchor="automated")
