"""The case-file retention card on a closed case's page and its two actions (privacy manager only)."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from flask import Blueprint, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.auth.access import roles_required
from dsr.auth.models import User
from dsr.casefiles import operations as ops
from dsr.casefiles.forms import KIND_LABELS, PlaceFileHoldForm, ReleaseFileHoldForm
from dsr.casefiles.models import CaseFileHold
from dsr.cases.card_actions import perform_card_action
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.cases.lazy_forms import LazyForms
from dsr.cases.models import Case
from dsr.cases.queries import case_or_404
from dsr.domain.casefile_retention import KeptBy
from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.timeutil import today

bp = Blueprint("casefiles", __name__)

KEPT_LABELS = {
    KeptBy.FILE_HOLD: _l("a legal hold on the case file"),
    KeptBy.COMPLAINT: _l("an open complaint"),
    KeptBy.RECORD_HOLD: _l("a legal hold on the person's data"),
    KeptBy.SCHEDULED_ERASURE: _l("kept records still to be erased on their date"),
    KeptBy.RESTRICTION: _l("a restriction still in force (Art. 18)"),
}


@bp.app_context_processor
def _helpers():
    return {"casefile_card": casefile_card, "KEPT_LABELS": KEPT_LABELS, "FILE_HOLD_LABELS": KIND_LABELS}


def casefile_card(case: Case) -> dict:
    """What the card shows: when the file is reduced, what keeps it, the holds and the forms."""
    failed = g.get("casefile_failed")
    forms = LazyForms({"place": partial(PlaceFileHoldForm, prefix="filehold", formdata=None),
                       "release": partial(ReleaseFileHoldForm, prefix="filerelease", formdata=None)})
    if failed is not None:
        forms[failed[0]] = failed[1]
    return {"status": ops.file_status(case, today()), "years": ops.retention_years(),
            "holds": ops.file_holds(case), "forms": forms}


def _place(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    if case.closed_at is None:
        raise RuleViolation(_("An open case is kept anyway; a hold on the file is for a closed case."))
    try:
        ops.place_file_hold(case, form.kind.data, form.reason.data, actor=actor, now=at)
    except ops.CaseFileError as exc:
        raise RuleViolation(str(exc)) from None
    return "success", _("The case file is kept until the hold is released.")


def _release(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    hold = db.session.get(CaseFileHold, form.hold_id.data)
    if hold is None or hold.case_id != case.id:
        raise InvalidInput(_("Unknown hold."), "hold_id")
    try:
        ops.release_file_hold(hold, form.reason.data, actor=actor, now=at)
    except ops.CaseFileError as exc:
        raise RuleViolation(str(exc)) from None
    return "success", _("Hold released. The file is reduced on the next daily run once its period has passed.")


@bp.post("/cases/<reference>/file-holds")
@roles_required(Role.PRIVACY_MANAGER)
def place(reference: str):
    case = case_or_404(reference)
    return perform_card_action(case, "place", PlaceFileHoldForm(prefix="filehold"), _place,
                               failed_attr="casefile_failed", anchor="casefile")


@bp.post("/cases/<reference>/file-holds/release")
@roles_required(Role.PRIVACY_MANAGER)
def release(reference: str):
    case = case_or_404(reference)
    return perform_card_action(case, "release", ReleaseFileHoldForm(prefix="filerelease"), _release,
                               failed_attr="casefile_failed", anchor="casefile")
