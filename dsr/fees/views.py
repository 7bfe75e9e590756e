"""The fee card on an access case: propose a fee for a further copy (privacy manager), record the answer."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import partial

from flask import Blueprint, abort, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from dsr.auth.access import WRITERS, roles_required
from dsr.auth.models import User
from dsr.cases.card_actions import perform_card_action
from dsr.cases.lazy_forms import LazyForms
from dsr.cases.models import Case
from dsr.cases.queries import case_or_404
from dsr.fees import operations as ops
from dsr.timeutil import today

bp = Blueprint("fees", __name__)


class ProposeFeeForm(FlaskForm):
    amount = DecimalField(_l("Fee in euros"), places=2,
                          validators=[InputRequired(), NumberRange(min=Decimal("0.01"), max=Decimal("1000"))])
    basis = TextAreaField(_l("How the amount follows from the administrative costs (in the letter's language)"),
                          validators=[DataRequired(), Length(max=2000)])


class AnswerForm(FlaskForm):
    on = DateField(_l("Answer received on"), validators=[InputRequired()])
    how = StringField(_l("How the subject answered"), validators=[Optional(), Length(max=500)])


FORMS = {"propose": ProposeFeeForm, "agreed": AnswerForm, "declined": AnswerForm}


@bp.app_context_processor
def _helpers():
    def fee_card(case: Case) -> dict:
        failed = g.get("fee_failed")
        forms = LazyForms({name: partial(cls, prefix=f"fee_{name}", formdata=None) for name, cls in FORMS.items()})
        if failed is not None:
            forms[failed[0]] = failed[1]
        return {"fee": ops.fee_of(case), "earlier": ops.earlier_copy(case), "forms": forms}

    return {"fee_card": fee_card}


def _propose(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    ops.propose_fee(case, amount_cents=int(form.amount.data * 100), basis=form.basis.data, actor=actor, now=at,
                    today=today())
    return "success", _("Fee proposed and the clock paused. Issue the fee letter: it warns the subject first.")


def _agreed(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    ops.fee_agreed(case, on=form.on.data, actor=actor, now=at, today=today())
    return "success", _("The subject agreed to the fee; the clock runs again.")


def _declined(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    ops.fee_declined(case, on=form.on.data, how=form.how.data or "", actor=actor, now=at, today=today())
    return "success", _("The subject did not agree to the fee; the request is withdrawn.")


OPERATIONS = {"propose": _propose, "agreed": _agreed, "declined": _declined}


@bp.post("/cases/<reference>/fee/<action>")
@roles_required(*WRITERS)
def act(reference: str, action: str):
    case = case_or_404(reference)
    if action not in OPERATIONS:
        abort(404)
    return perform_card_action(case, action, FORMS[action](prefix=f"fee_{action}"), OPERATIONS[action],
                               failed_attr="fee_failed", anchor="fee")
