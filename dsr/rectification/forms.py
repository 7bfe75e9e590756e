"""The forms of the "Rectification" card. Each posts with its own prefix (``rect_<action>``) and carries the
case version the page was rendered with, so a decision taken on a stale page is refused (409). The recipients'
forms are :mod:`dsr.notices.forms`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from dsr.notices.operations import TEXT_MAX
from dsr.rectification.values import VALUE_MAX


class RectificationForm(FlaskForm):
    version = IntegerField(validators=[InputRequired()])


class ProposeForm(RectificationForm):
    # "<found record id>/<field>": one choice per correctable field of each confirmed record.
    target = SelectField(_l("Record and field"), choices=[], validate_choice=False,
                         validators=[DataRequired(_l("Choose the record and the field to correct."))])
    after = StringField(_l("Corrected value"), validators=[DataRequired(_l("Type the corrected value.")),
                                                           Length(max=VALUE_MAX)])
    note = TextAreaField(_l("What the subject wrote, the proof sent (optional)"),
                         validators=[Optional(), Length(max=TEXT_MAX)])


class ProposeManualForm(RectificationForm):
    # "<source>/<collection>/<field>" of a manual source.
    target = SelectField(_l("System and field"), choices=[], validate_choice=False,
                         validators=[DataRequired(_l("Choose the system and the field to correct."))])
    before = StringField(_l("Value now, as the subject reports it (optional)"),
                         validators=[Optional(), Length(max=VALUE_MAX)])
    after = StringField(_l("Corrected value"), validators=[DataRequired(_l("Type the corrected value.")),
                                                           Length(max=VALUE_MAX)])
    note = TextAreaField(_l("What the subject wrote, the proof sent (optional)"),
                         validators=[Optional(), Length(max=TEXT_MAX)])


class CorrectionForm(RectificationForm):
    correction_id = IntegerField(validators=[InputRequired()])


class RefuseForm(CorrectionForm):
    reason = TextAreaField(_l("Reason for refusing (the subject is told)"),
                           validators=[DataRequired(_l("Give the reason the subject will be told.")),
                                       Length(max=TEXT_MAX)])


class MarkAppliedForm(CorrectionForm):
    note = TextAreaField(_l("What was corrected, where, by whom"),
                         validators=[DataRequired(_l("Say what was corrected, where, and by whom.")),
                                     Length(max=TEXT_MAX)])


FORMS: dict[str, type[RectificationForm]] = {
    "propose": ProposeForm, "propose_manual": ProposeManualForm, "apply": CorrectionForm,
    "apply_all": RectificationForm, "refuse": RefuseForm, "mark_applied": MarkAppliedForm,
    "cancel": CorrectionForm,
}


def prefix(action: str) -> str:
    return f"rect_{action}"
