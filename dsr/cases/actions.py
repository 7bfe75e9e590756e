"""POST endpoints for the actions on a case page: validate the form, call one operation, commit once.

Errors keep the person on the case page with the reason: 400 for bad input, 403 for a role that may not,
409 for a state or rule that forbids it and for a stale page (with the changes made since it was loaded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from dsr.attachments.models import Attachment
from dsr.attachments.storage import UploadError, check_upload, store_attachment
from dsr.auth.access import WRITERS, roles_required
from dsr.auth.models import User
from dsr.cases import action_forms as F
from dsr.cases import duplicates, guards, lifecycle, timing
from dsr.cases.errors import CaseError, InvalidInput, NotAllowed, StaleCase
from dsr.cases.models import Case
from dsr.domain.enums import (
    AttachmentKind,
    LinkKind,
    Priority,
    RefusalGround,
    VerificationMethod,
    VerificationOutcome,
)
from dsr.extensions import db
from dsr.identity.operations import confirm_id_document, record_verification
from dsr.tasks import operations as tasks
from dsr.tasks.models import CaseTask
from dsr.timeutil import now, today

bp = Blueprint("case_actions", __name__)


@dataclass
class Ctx:
    actor: User
    now: datetime
    today: date
    version: int


def _user(value: str | None) -> User | None:
    if not value:
        return None
    user = db.session.get(User, int(value)) if value.isdigit() else None
    if user is None:
        raise InvalidInput(_("Unknown user."), "assignee")
    return user


def _case_by_reference(reference: str) -> Case:
    case = db.session.execute(sa.select(Case).where(Case.reference == reference.strip())).scalar_one_or_none()
    if case is None:
        raise InvalidInput(_("No case with reference %(ref)s.", ref=reference), "reference")
    return case


def _task(case: Case, task_id: int) -> CaseTask:
    task = db.session.get(CaseTask, task_id)
    if task is None or task.case_id != case.id:
        raise InvalidInput(_("Unknown task."), "task_id")
    return task


def _attachment(case: Case, attachment_id: int) -> Attachment:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.case_id != case.id:
        raise InvalidInput(_("Unknown attachment."), "attachment_id")
    return attachment


def _upload(case: Case, form, c: Ctx) -> None:
    guards.check_version(case, c.version)
    if not form.file.data or not getattr(form.file.data, "filename", ""):
        raise InvalidInput(_("Choose a file to upload."), "file")
    try:
        upload = check_upload(form.file.data.filename, form.file.data.stream,
                              max_bytes=current_app.config["MAX_ATTACHMENT_BYTES"])
    except UploadError as exc:
        raise InvalidInput(str(exc), "file") from None
    guards.require_role(c.actor, *WRITERS, what=_l("add an attachment"))
    store_attachment(case, upload, actor=c.actor, now=c.now, kind=AttachmentKind(form.kind.data))


V = "expected_version"
ACTIONS: dict[str, tuple[type, Callable]] = {
    "assign": (F.AssignForm, lambda case, f, c: lifecycle.assign(
        case, _user(f.assignee.data), actor=c.actor, now=c.now, expected_version=c.version)),
    "take": (F.TransitionForm, lambda case, f, c: lifecycle.assign(
        case, c.actor, actor=c.actor, now=c.now, expected_version=c.version)),
    "priority": (F.PriorityForm, lambda case, f, c: lifecycle.set_priority(
        case, Priority(f.priority.data), actor=c.actor, now=c.now, expected_version=c.version)),
    "start_identity_check": (F.TransitionForm, lambda case, f, c: lifecycle.start_identity_check(
        case, actor=c.actor, now=c.now, expected_version=c.version)),
    "start_work": (F.TransitionForm, lambda case, f, c: lifecycle.start_work(
        case, actor=c.actor, now=c.now, expected_version=c.version)),
    "submit_for_approval": (F.TransitionForm, lambda case, f, c: lifecycle.submit_for_approval(
        case, actor=c.actor, now=c.now, expected_version=c.version)),
    "send_back": (F.SendBackForm, lambda case, f, c: lifecycle.send_back(
        case, reason=f.reason.data, actor=c.actor, now=c.now, expected_version=c.version)),
    "complete": (F.CompleteForm, lambda case, f, c: lifecycle.complete(
        case, decision=f.decision.data, actor=c.actor, now=c.now, expected_version=c.version)),
    "refuse": (F.RefuseForm, lambda case, f, c: lifecycle.refuse(
        case, ground=RefusalGround(f.ground.data), justification=f.justification.data, actor=c.actor, now=c.now,
        expected_version=c.version)),
    "withdraw": (F.WithdrawForm, lambda case, f, c: lifecycle.withdraw(
        case, how=f.how.data, actor=c.actor, now=c.now, expected_version=c.version)),
    "close": (F.TransitionForm, lambda case, f, c: lifecycle.close(
        case, actor=c.actor, now=c.now, expected_version=c.version)),
    "verify": (F.VerifyForm, lambda case, f, c: record_verification(
        case, method=VerificationMethod(f.method.data), outcome=VerificationOutcome(f.outcome.data),
        note=f.note.data or "", actor=c.actor, now=c.now, expected_version=c.version)),
    "confirm_id": (F.ConfirmIdForm, lambda case, f, c: confirm_id_document(
        case, _attachment(case, f.attachment_id.data), outcome=VerificationOutcome(f.outcome.data),
        actor=c.actor, now=c.now, expected_version=c.version)),
    "pause": (F.PauseForm, lambda case, f, c: timing.request_information(
        case, reason=f.reason.data, requested_on=f.requested_on.data, actor=c.actor, now=c.now, today=c.today,
        ask_working_days=current_app.config["PAUSE_ASK_WORKING_DAYS"], expected_version=c.version)),
    "resume": (F.ResumeForm, lambda case, f, c: timing.information_received(
        case, received_on=f.received_on.data, actor=c.actor, now=c.now, today=c.today,
        expected_version=c.version)),
    "extend": (F.ExtendForm, lambda case, f, c: timing.extend(
        case, reason=f.reason.data, actor=c.actor, now=c.now, today=c.today, expected_version=c.version)),
    "extension_notice": (F.NoticeForm, lambda case, f, c: timing.record_extension_notice(
        case, sent_on=f.sent_on.data, actor=c.actor, now=c.now, today=c.today, expected_version=c.version)),
    "note": (F.NoteForm, lambda case, f, c: tasks.add_note(case, f.body.data, actor=c.actor, now=c.now)),
    "task": (F.TaskForm, lambda case, f, c: tasks.add_task(
        case, f.title.data, assignee=_user(f.assignee.data), due_on=f.due_on.data, actor=c.actor, now=c.now,
        today=c.today)),
    "task_done": (F.TaskDoneForm, lambda case, f, c: tasks.complete_task(
        _task(case, f.task_id.data), actor=c.actor, now=c.now)),
    "link": (F.LinkForm, lambda case, f, c: duplicates.link_cases(
        case, _case_by_reference(f.other.data), kind=LinkKind(f.kind.data), actor=c.actor, now=c.now)),
    "merge": (F.MergeForm, lambda case, f, c: duplicates.merge_into(
        case, _case_by_reference(f.target.data), actor=c.actor, now=c.now, expected_version=c.version)),
    "upload": (F.UploadForm, _upload),
}


@bp.route("/cases/<reference>/act/<action>", methods=["POST"])
@roles_required(*WRITERS)
def act(reference: str, action: str):
    from dsr.cases.views import render_case  # the page the person came from, shown again on error

    if action not in ACTIONS:
        abort(404)
    case = db.session.execute(sa.select(Case).where(Case.reference == reference)).scalar_one_or_none()
    if case is None:
        abort(404)
    form_cls, operation = ACTIONS[action]
    form = form_cls(prefix=action)
    if not form.validate_on_submit():
        problems = "; ".join(f"{getattr(form, name).label.text}: {', '.join(map(str, errs))}"
                             for name, errs in form.errors.items())
        return render_case(case, error=_("Nothing was saved: %(problems)s", problems=problems), status=400,
                           failed=(action, form))
    ctx = Ctx(actor=current_user, now=now(), today=today(), version=form.version.data)
    try:
        operation(case, form, ctx)
        db.session.commit()
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except StaleCase:
        db.session.rollback()
        return render_case(case, conflict_since=_int(form.last_event.data), status=409)
    except StaleDataError:
        db.session.rollback()
        return render_case(case, conflict_since=_int(form.last_event.data), status=409)
    except CaseError as exc:
        db.session.rollback()
        field = getattr(form, getattr(exc, "field", None) or "", None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, str(exc)]
        # What the person typed stays in the form, next to the reason it was refused.
        return render_case(case, error=str(exc), status=exc.status, failed=(action, form))
    flash(_("Saved."), "success")
    return redirect(url_for("cases.detail", reference=case.reference) + _anchor(action))


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def _anchor(action: str) -> str:
    return {"note": "#notes", "task": "#tasks", "task_done": "#tasks", "upload": "#attachments"}.get(action, "")


@bp.route("/cases/<reference>/act/<action>", methods=["GET"])
@roles_required(*WRITERS)
def act_get(reference: str, action: str):
    # A bookmarked or reloaded action URL goes back to the case instead of erroring.
    return redirect(url_for("cases.detail", reference=reference))
