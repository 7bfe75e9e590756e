"""The forms of the restriction card. Each posts with its own prefix (``restriction_<action>``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from dsr.domain.restriction import RestrictionGround
from dsr.restriction.operations import TEXT_MAX
from dsr.texts.picker import subject_text_area

GROUND_LABELS = {
    RestrictionGround.ACCURACY_CONTESTED: _l("(a) The subject contests the accuracy of the data, for the time "
                                             "needed to verify it"),
    RestrictionGround.UNLAWFUL_PROCESSING: _l("(b) The processing is unlawful and the subject asks for restriction "
                                              "instead of erasure"),
    RestrictionGround.LEGAL_CLAIMS: _l("(c) Harmony no longer needs the data, the subject needs it for a legal "
                                       "claim"),
    RestrictionGround.OBJECTION_PENDING: _l("(d) The subject objected (Art. 21(1)), pending the balancing"),
}


class GroundForm(FlaskForm):
    ground = SelectField(_l("Ground (Art. 18(1))"), choices=[(g.value, label) for g, label in GROUND_LABELS.items()],
                         validators=[DataRequired()])
    linked_reference = StringField(_l("For (a) and (d): the case of the rectification or objection (reference)"),
                                   validators=[Optional(), Length(max=20)])
    explanation = TextAreaField(_l("In the subject's words (optional)"), validators=[Optional(), Length(max=TEXT_MAX)])


class ApplyForm(FlaskForm):
    pass


class RecordNoteForm(FlaskForm):
    record_id = IntegerField(validators=[InputRequired()])
    note = TextAreaField(_l("What was done, where, by whom"), validators=[DataRequired(), Length(max=TEXT_MAX)])


class DecideLiftForm(FlaskForm):
    reason = TextAreaField(_l("Why the restriction is lifted (staff note, internal)"),
                           validators=[DataRequired(), Length(max=TEXT_MAX)])
    subject_text = subject_text_area()


class LiftForm(FlaskForm):
    pass


FORMS = {"ground": GroundForm, "apply": ApplyForm, "restricted": RecordNoteForm, "decide_lift": DecideLiftForm,
         "lift": LiftForm, "lifted": RecordNoteForm}


def prefix(action: str) -> str:
    return f"restriction_{action}"
