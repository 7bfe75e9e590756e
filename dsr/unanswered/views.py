"""The "needs attention" panel of a case whose information request went unanswered, and its close action."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from dsr.auth.access import roles_required
from dsr.auth.models import User
from dsr.cases.card_actions import perform_card_action
from dsr.cases.models import Case
from dsr.cases.queries import case_or_404
from dsr.domain.enums import Role
from dsr.timeutil import today
from dsr.unanswered import operations as ops

bp = Blueprint("unanswered", __name__)


class CloseUnansweredForm(FlaskForm):
    justification = TextAreaField(_l("Written justification (in the letter's language)"),
                                  validators=[DataRequired(), Length(max=5000)])


@bp.app_context_processor
def _helpers():
    def unanswered_panel(case: Case) -> dict | None:
        found = ops.unanswered(case, today())
        if found is None:
            return None
        failed = g.get("unanswered_failed")
        form = failed[1] if failed else CloseUnansweredForm(prefix="unanswered", formdata=None)
        return {"found": found, "form": form}

    return {"unanswered_panel": unanswered_panel}


def _close(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    ops.close_unanswered(case, justification=form.justification.data, actor=actor, now=at, today=today())
    return "success", _("Closed. Issue the refusal letter: it says when the information was asked for.")


@bp.post("/cases/<reference>/close-unanswered")
@roles_required(Role.PRIVACY_MANAGER)
def close(reference: str):
    case = case_or_404(reference)
    return perform_card_action(case, "close", CloseUnansweredForm(prefix="unanswered"), _close,
                               failed_attr="unanswered_failed", anchor="unanswered")
