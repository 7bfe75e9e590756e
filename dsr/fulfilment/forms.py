"""The forms of the "Data in Harmony's systems" card. Each posts with its own prefix (``data_<action>``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

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


FORMS = {"lookup": RunLookupForm, "confirm": ConfirmMatchForm, "reject": RejectMatchForm,
         "hold": PlaceHoldForm, "release": ReleaseHoldForm, "plan": BuildPlanForm, "approve": PlanForm,
         "execute": PlanForm}


def prefix(action: str) -> str:
    return f"data_{action}"
