"""The forms of the "Data in Harmony's systems" card. Each posts with its own prefix (``data_<action>``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, RadioField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from dsr.fulfilment.holds import REASON_MAX


class RunLookupForm(FlaskForm):
    pass


class ConfirmMatchForm(FlaskForm):
    lookup_id = IntegerField(validators=[InputRequired()])


class RejectMatchForm(FlaskForm):
    lookup_id = IntegerField(validators=[InputRequired()])
    reason = TextAreaField(_l("Why these records are not this person's"),
                           validators=[DataRequired(), Length(max=REASON_MAX)])


class PlaceHoldForm(FlaskForm):
    # Empty: a hold on the person; a found record's id: a hold on that record only.
    found_record_id = IntegerField(validators=[Optional()])
    reason = TextAreaField(_l("Reason for the hold (the dispute, the claim in court)"),
                           validators=[DataRequired(), Length(max=REASON_MAX)])


class ReleaseHoldForm(FlaskForm):
    hold_id = IntegerField(validators=[InputRequired()])
    reason = TextAreaField(_l("Why the hold is released"), validators=[DataRequired(), Length(max=REASON_MAX)])


class BuildPlanForm(FlaskForm):
    lookup_id = IntegerField(validators=[InputRequired()])


class PlanForm(FlaskForm):
    plan_id = IntegerField(validators=[InputRequired()])


class DecideItemForm(FlaskForm):
    """The privacy manager's decision on a record put to review (no rule applies, shared with another)."""

    item_id = IntegerField(validators=[InputRequired()])
    decision = RadioField(_l("Decision"), choices=[("keep", _l("keep")), ("erase", _l("erase"))],
                          validators=[InputRequired(), AnyOf(["keep", "erase"])])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=REASON_MAX)])


class TaskDoneForm(FlaskForm):
    item_id = IntegerField(validators=[InputRequired()])
    done_on = DateField(_l("Done on"), validators=[InputRequired()])
    note = TextAreaField(_l("What was done (optional)"), validators=[Optional(), Length(max=REASON_MAX)])
    evidence = FileField(_l("Evidence (PDF, JPEG or PNG, optional)"))


class TaskImpossibleForm(FlaskForm):
    item_id = IntegerField(validators=[InputRequired()])
    reason = TextAreaField(_l("Why it cannot be done"), validators=[DataRequired(), Length(max=REASON_MAX)])


FORMS = {"lookup": RunLookupForm, "confirm": ConfirmMatchForm, "reject": RejectMatchForm,
         "hold": PlaceHoldForm, "release": ReleaseHoldForm, "plan": BuildPlanForm, "approve": PlanForm,
         "execute": PlanForm, "decide": DecideItemForm, "task_done": TaskDoneForm,
         "task_impossible": TaskImpossibleForm}


def prefix(action: str) -> str:
    return f"data_{action}"
