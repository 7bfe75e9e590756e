"""The forms of the objection card. Each posts with its own prefix (``objection_<action>``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from dsr.objection.balancing import TEXT_MAX
from dsr.objection.models import ObjectionEffect, ObjectionOutcome

OUTCOME_LABELS = {ObjectionOutcome.UPHELD: _l("Upheld: the processing stops for this person"),
                  ObjectionOutcome.REJECTED: _l("Rejected: Harmony's compelling grounds override (partial refusal)")}
EFFECT_LABELS = {ObjectionEffect.STOP: _l("Stop the processing for this person"),
                 ObjectionEffect.ERASE: _l("Erase the records of this processing (Art. 17(1)(c))"),
                 ObjectionEffect.RESTRICT: _l("Restrict the records: keep, do not use (Art. 18)")}


class StopMarketingForm(FlaskForm):
    pass


class RecordObjectionForm(FlaskForm):
    # Choices are the data map's collections on legitimate interests or a public task, set by the view.
    processing = SelectField(_l("Processing objected to"), validators=[DataRequired()], validate_choice=False)
    subject_grounds = TextAreaField(_l("The subject's grounds relating to their particular situation"),
                                    validators=[DataRequired(), Length(max=TEXT_MAX)])


class DecideObjectionForm(FlaskForm):
    objection_id = IntegerField(validators=[InputRequired()])
    outcome = RadioField(_l("Decision"), choices=[(o.value, label) for o, label in OUTCOME_LABELS.items()],
                         validators=[InputRequired()])
    effect = SelectField(_l("If upheld: what happens to the processing"),
                         choices=[("", "—")] + [(e.value, label) for e, label in EFFECT_LABELS.items()],
                         validators=[Optional()])
    compelling_grounds = TextAreaField(_l("Harmony's compelling legitimate grounds, or the legal claims "
                                          "(required to reject)"), validators=[Optional(), Length(max=TEXT_MAX)])
    reasons = TextAreaField(_l("Reasons for the decision (they go into the reply)"),
                            validators=[DataRequired(), Length(max=TEXT_MAX)])


FORMS = {"stop": StopMarketingForm, "record": RecordObjectionForm, "decide": DecideObjectionForm}


def prefix(action: str) -> str:
    return f"objection_{action}"
