"""The direct-transmission card on a portability case's page and its one action (staff and manager)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from dsr.auth.access import WRITERS, roles_required
from dsr.auth.models import User
from dsr.cases.card_actions import perform_card_action
from dsr.cases.models import Case
from dsr.cases.queries import case_or_404
from dsr.timeutil import today
from dsr.transmissions import operations as ops
from dsr.transmissions.models import TransmissionChannel

bp = Blueprint("transmissions", __name__)

CHANNEL_LABELS = {TransmissionChannel.SECURE_EMAIL: _l("secure e-mail"), TransmissionChannel.SFTP: _l("SFTP"),
                  TransmissionChannel.API: _l("the receiver's API"),
                  TransmissionChannel.DATA_CARRIER: _l("encrypted data carrier by post or courier")}


class TransmissionForm(FlaskForm):
    controller = StringField(_l("Receiving organisation"), validators=[DataRequired(), Length(max=200)])
    channel = SelectField(_l("Channel"), choices=[(c.value, CHANNEL_LABELS[c]) for c in TransmissionChannel],
                          validators=[InputRequired()])
    on = DateField(_l("Sent on"), validators=[InputRequired()])


@bp.app_context_processor
def _helpers():
    def transmission_card(case: Case) -> dict:
        failed = g.get("transmission_failed")
        form = failed[1] if failed else TransmissionForm(prefix="transmission", formdata=None)
        if not failed:
            form.on.data = today()
        return {"sent": ops.transmissions(case), "form": form}

    return {"transmission_card": transmission_card, "TRANSMISSION_CHANNELS": CHANNEL_LABELS}


def _record(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    ops.record_transmission(case, controller=form.controller.data, channel=form.channel.data, on=form.on.data,
                            actor=actor, now=at, today=today())
    return "success", _("Direct transmission recorded; the portability letter will say so.")


@bp.post("/cases/<reference>/transmissions")
@roles_required(*WRITERS)
def record(reference: str):
    case = case_or_404(reference)
    return perform_card_action(case, "record", TransmissionForm(prefix="transmission"), _record,
                               failed_attr="transmission_failed", anchor="transmission")
