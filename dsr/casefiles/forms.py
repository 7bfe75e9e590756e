"""Forms of the case file retention card: place a hold on the file, release it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from dsr.casefiles.models import FileHoldKind

REASON_MAX = 2000
KIND_LABELS = {FileHoldKind.LEGAL_HOLD: _l("Legal hold (a dispute or court case about this request)"),
               FileHoldKind.COMPLAINT: _l("Open complaint (at Harmony or the Autoriteit Persoonsgegevens)")}


class PlaceFileHoldForm(FlaskForm):
    kind = RadioField(_l("What keeps the file"), choices=[(k.value, KIND_LABELS[k]) for k in FileHoldKind],
                      validators=[InputRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=REASON_MAX)])


class ReleaseFileHoldForm(FlaskForm):
    hold_id = IntegerField(validators=[InputRequired()])
    reason = TextAreaField(_l("Why the hold is released"), validators=[DataRequired(), Length(max=REASON_MAX)])
