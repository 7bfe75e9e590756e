"""The "Who asks" card on the case page and its four actions: record the requester, check their mandate,
verify their identity, record that the subject has died."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from flask import Blueprint, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from dsr.attachments.models import Attachment
from dsr.auth.access import WRITERS, roles_required
from dsr.auth.models import User
from dsr.cases.action_forms import METHOD_LABELS
from dsr.cases.card_actions import perform_card_action
from dsr.cases.errors import InvalidInput
from dsr.cases.lazy_forms import LazyForms
from dsr.cases.models import Case
from dsr.cases.queries import case_or_404
from dsr.extensions import db
from dsr.requesters import operations as ops
from dsr.requesters.models import RequesterRole
from dsr.timeutil import today

bp = Blueprint("requesters", __name__)

ROLE_LABELS = {
    RequesterRole.REPRESENTATIVE: _l("Authorised representative (written mandate)"),
    RequesterRole.PARENT_GUARDIAN: _l("Parent or guardian of a child under 16 (UAVG art. 5)"),
    RequesterRole.CURATOR: _l("Curator (court appointment)"),
    RequesterRole.MENTOR: _l("Mentor (court appointment)"),
    RequesterRole.LAWYER: _l("Lawyer"),
    RequesterRole.RELATIVE: _l("Relative, heir or executor of a deceased subject"),
}


class RequesterForm(FlaskForm):
    role = SelectField(_l("Asks as"), choices=[(r.value, ROLE_LABELS[r]) for r in RequesterRole])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    address = StringField(_l("Street and number"), validators=[Optional(), Length(max=300)])
    postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=20)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
    country = StringField(_l("Country (ISO code)"), validators=[Optional(), Length(min=2, max=2)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254)])


class MandateForm(FlaskForm):
    attachment_id = IntegerField(_l("Mandate document"), validators=[Optional()])
    scope = TextAreaField(_l("What the mandate covers"), validators=[Optional(), Length(max=2000)])
    expires_on = DateField(_l("Valid until (if it says)"), validators=[Optional()])


class RequesterIdentityForm(FlaskForm):
    method = SelectField(_l("How the requester's identity was checked"),
                         choices=[(m.value, label) for m, label in METHOD_LABELS.items()], validators=[InputRequired()])


class DeceasedForm(FlaskForm):
    died_on = DateField(_l("Date of death (if known)"), validators=[Optional()])


FORMS = {"record": RequesterForm, "mandate": MandateForm, "identity": RequesterIdentityForm,
         "deceased": DeceasedForm}


@bp.app_context_processor
def _helpers():
    def requester_card(case: Case) -> dict:
        failed = g.get("requester_failed")
        forms = LazyForms({name: partial(cls, prefix=f"req_{name}", formdata=None) for name, cls in FORMS.items()})
        if failed is not None:
            forms[failed[0]] = failed[1]
        requester = ops.requester_of(case)
        return {"requester": requester, "forms": forms, "obligations": ops.requester_obligations(requester, today()),
                "today": today(),
                "attachments": [a for a in case.attachments if a.kind.value != "id_document"]}

    return {"requester_card": requester_card, "REQUESTER_ROLES": ROLE_LABELS, "METHOD_LABELS": METHOD_LABELS}


def _requester(case: Case):
    requester = ops.requester_of(case)
    if requester is None:
        raise InvalidInput(_("Record who made the request first."))
    return requester


def _record(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    ops.record_requester(case, role=form.role.data, name=form.name.data, address=form.address.data,
                         postcode=form.postcode.data, city=form.city.data, country=form.country.data,
                         email=form.email.data, actor=actor, now=at)
    return "success", _("Requester recorded: letters now go to them, about the subject.")


def _mandate(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    attachment = db.session.get(Attachment, form.attachment_id.data) if form.attachment_id.data else None
    ops.check_mandate(_requester(case), attachment=attachment, scope=form.scope.data or "",
                      expires_on=form.expires_on.data, actor=actor, now=at)
    return "success", _("Mandate checked and kept with the case.")


def _identity(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    ops.verify_requester_identity(_requester(case), method=form.method.data, actor=actor, now=at)
    return "success", _("The requester's identity is recorded as verified.")


def _deceased(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    ops.record_deceased(case, died_on=form.died_on.data, actor=actor, now=at, today=today())
    return "success", _("Recorded: the request is about a deceased person. Answer with the letter for that case.")


OPERATIONS = {"record": _record, "mandate": _mandate, "identity": _identity, "deceased": _deceased}


@bp.post("/cases/<reference>/requester/<action>")
@roles_required(*WRITERS)
def act(reference: str, action: str):
    case = case_or_404(reference)
    if action not in OPERATIONS:
        from flask import abort

        abort(404)
    return perform_card_action(case, action, FORMS[action](prefix=f"req_{action}"), OPERATIONS[action],
                               failed_attr="requester_failed", anchor="requester")
