"""POST endpoints for the actions on a case page: validate the form, call one operation, commit once.

Errors keep the person on the case page with the reason: 400 for bad input, 403 for a role that may not,
409 for a state or rule that forbids it and for a stale page (with the changes made since it was loaded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from dsr.attachments.models import Attachment
from dsr.attachments.storage import UploadError, check_upload, store_attachment
from dsr.auth.access import MANAGERS, WRITERS, roles_required
from dsr.auth.models import User
from dsr.cases import action_forms as F
from dsr.cases import duplicates, guards, lifecycle, timing
from dsr.cases.errors import CaseError, InvalidInput, NotAllowed, StaleCase
from dsr.cases.models import Case
from dsr.cases.queries import case_by_reference, case_or_404
from dsr.confirm import confirmation_page, confirmed
from dsr.domain.enums import (
    AttachmentKind,
    LinkKind,
    Priority,
    RefusalGround,
    VerificationMethod,
    VerificationOutcome,
)
from dsr.domain.workflow import Action, allowed_actions
from dsr.extensions import db
from dsr.identity.operations import confirm_id_document, record_verification
from dsr.tasks import operations as tasks
from dsr.tasks.models import CaseTask
from dsr.texts.models import TextPurpose
from dsr.texts.operations import LANGUAGE_NAMES, save_texts
from dsr.texts.picker import in_case_language
from dsr.timeutil import format_day, now, today

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
    case = case_by_reference(reference.strip())
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


def _with_subject_text(purpose: TextPurpose, operation: Callable, item=lambda case: 0) -> Callable:
    """The action, then the text for the subject its form carries, in the case's language, in the same
    transaction (issue 14.2): the staff note is the operation's, the text is what the letter quotes. Other
    languages are written on the case's texts page; an empty field writes nothing."""
    def run(case: Case, form, c: Ctx):
        result = operation(case, form, c)
        save_texts(case, purpose, item(case), in_case_language(case, form.subject_text), actor=c.actor, now=c.now)
        return result
    return run


V = "expected_version"
ACTIONS: dict[str, tuple[type, Callable]] = {
    "assign": (F.AssignForm, lambda case, f, c: lifecycle.assign(
        case, _user(f.assignee.data), actor=c.actor, now=c.now, expected_version=c.version)),
    "take": (F.TransitionForm, lambda case, f, c: lifecycle.assign(
        case, c.actor, actor=c.actor, now=c.now, expected_version=c.version)),
    "unassign": (F.TransitionForm, lambda case, f, c: lifecycle.assign(
        case, None, actor=c.actor, now=c.now, expected_version=c.version)),
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
        case, decision=f.decision.data, actor=c.actor, now=c.now, expected_version=c.version,
        override_reason=f.override_reason.data)),
    "refuse": (F.RefuseForm, _with_subject_text(TextPurpose.REFUSAL, lambda case, f, c: lifecycle.refuse(
        case, ground=RefusalGround(f.ground.data), justification=f.justification.data, actor=c.actor, now=c.now,
        expected_version=c.version, repeats=lifecycle.earlier_cases(case, f.repeats.data)))),
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
    "pause": (F.PauseForm, _with_subject_text(
        TextPurpose.INFORMATION_REQUEST, lambda case, f, c: timing.request_information(
            case, reason=f.reason.data, requested_on=f.requested_on.data, actor=c.actor, now=c.now, today=c.today,
            ask_working_days=current_app.config["PAUSE_ASK_WORKING_DAYS"], expected_version=c.version),
        item=lambda case: case.pauses[-1].id)),
    "resume": (F.ResumeForm, lambda case, f, c: timing.information_received(
        case, received_on=f.received_on.data, actor=c.actor, now=c.now, today=c.today,
        expected_version=c.version)),
    "extend": (F.ExtendForm, _with_subject_text(TextPurpose.EXTENSION, lambda case, f, c: timing.extend(
        case, reason=f.reason.data, actor=c.actor, now=c.now, today=c.today, expected_version=c.version))),
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
    from dsr.cases.page import render_case  # the page the person came from, shown again on error

    if action not in ACTIONS:
        abort(404)
    case = case_or_404(reference)
    form_cls, operation = ACTIONS[action]
    form = form_cls(prefix=action)
    if not form.validate_on_submit():
        problems = "; ".join(f"{getattr(form, name).label.text}: {', '.join(map(str, errs))}"
                             for name, errs in form.errors.items())
        return render_case(case, error=_("Nothing was saved: %(problems)s", problems=problems), status=400,
                           failed=(action, form))
    if (action in CONFIRM and not confirmed(request.form, action)
            and Action(action) in allowed_actions(case.state) and form.version.data == case.version):
        # A move the state or version forbids goes straight to the operation, which says why.
        if current_user.role not in CONFIRM_ROLES.get(action, WRITERS):
            abort(403)
        return _confirm(action, case, form)
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
    flash(done_message(action, case, form), "success")
    return redirect(url_for("cases.detail", reference=case.reference) + _anchor(action))


# Steps that end the work on a case: the page says what will happen and asks before doing it.
CONFIRM = ("refuse", "withdraw", "close")
CONFIRM_ROLES = {"refuse": MANAGERS}


def _confirm(action: str, case: Case, form):
    from dsr.cases.action_forms import REFUSAL_LABELS

    open_tasks = db.session.scalar(sa.select(sa.func.count()).select_from(CaseTask).where(
        CaseTask.case_id == case.id, CaseTask.done_at.is_(None))) or 0
    subject = case.subject.name
    lines: list[str] = []
    if action == "refuse":
        title = _("Refuse %(ref)s?", ref=case.reference)
        lines = [_("The request of %(name)s is refused on this ground: %(ground)s.", name=subject,
                   ground=REFUSAL_LABELS[RefusalGround(form.ground.data)]),
                 _("Your justification is recorded as the decision: “%(text)s”.", text=form.justification.data.strip()),
                 _("The refusal letter quotes, in %(language)s: “%(text)s”.", text=form.subject_text.data.strip(),
                   language=LANGUAGE_NAMES[case.language.value]) if (form.subject_text.data or "").strip()
                 else _("No text for the subject in %(language)s yet: the refusal letter cannot be made until it is "
                        "written under “Texts for the subject”.", language=LANGUAGE_NAMES[case.language.value]),
                 _("The case is closed for work: no search, plan or correction can be made on it afterwards."),
                 _("The refusal letter must give the reasons and the routes to the Autoriteit Persoonsgegevens and to "
                   "the court (Art. 12(4)).")]
        label = _("Yes, refuse the request")
    elif action == "withdraw":
        title = _("Record %(ref)s as withdrawn?", ref=case.reference)
        lines = [_("The request of %(name)s is recorded as withdrawn by the subject (%(how)s).", name=subject,
                   how=form.how.data.strip()),
                 _("The case is closed for work and its deadline no longer runs; no answer is sent.")]
        label = _("Yes, record the withdrawal")
    else:
        title = _("Archive %(ref)s?", ref=case.reference)
        lines = [_("The case is archived: it stays readable, with its history, but nothing can be changed on it.")]
        label = _("Yes, archive the case")
    if open_tasks:
        lines.append(ngettext("%(num)d open task of this case stays undone.",
                              "%(num)d open tasks of this case stay undone.", open_tasks))
    return confirmation_page(title=title, consequences=lines, prefix=action, irreversible=True,
                             back_url=url_for("cases.detail", reference=case.reference), confirm_label=label,
                             danger=action != "close")


def done_message(action: str, case: Case, form) -> str:
    """What the action did, in a sentence ("Assigned to Sanne Verbeek"), read from the case after it."""
    from dsr.cases.action_forms import PRIORITY_LABELS, REFUSAL_LABELS
    from dsr.cases.labels import STATE_LABELS

    day = format_day

    who = case.assignee.name if case.assignee else None
    messages: dict[str, Callable[[], str]] = {
        "assign": lambda: _("Assigned to %(name)s.", name=who) if who else _("Unassigned."),
        "take": lambda: _("Assigned to you."),
        "unassign": lambda: _("Unassigned: the case is back in triage."),
        "priority": lambda: _("Priority set to %(p)s.", p=PRIORITY_LABELS[case.priority]),
        "start_identity_check": lambda: _("Identity check started."),
        "start_work": lambda: _("Work started; the case is assigned to %(name)s.", name=who)
        if who else _("Work started."),
        "submit_for_approval": lambda: _("Submitted to the privacy manager for approval."),
        "send_back": lambda: _("Sent back: %(reason)s", reason=form.reason.data.strip()),
        "complete": lambda: _("Completed: %(decision)s", decision=form.decision.data.strip()),
        "refuse": lambda: _("Refused: %(ground)s.", ground=REFUSAL_LABELS[case.refusal_ground]),
        "withdraw": lambda: _("Recorded as withdrawn (%(how)s).", how=form.how.data.strip()),
        "close": lambda: _("Archived."),
        "verify": lambda: _("Identity check recorded: %(outcome)s.",
                            outcome=F.OUTCOME_LABELS[VerificationOutcome(form.outcome.data)]),
        "confirm_id": lambda: _("ID check recorded (%(outcome)s); the copy was deleted.",
                                outcome=F.OUTCOME_LABELS[VerificationOutcome(form.outcome.data)]),
        "pause": lambda: _("Paused: waiting for %(what)s.", what=form.reason.data.strip())
        if case.paused_since else _("Request for information recorded; the clock was not paused (asked too "
                                    "late)."),
        "resume": lambda: _("Information received on %(d)s; the clock runs again.", d=day(form.received_on.data)),
        "extend": lambda: _("Deadline extended to %(d)s.", d=day(case.extended_due_on)),
        "extension_notice": lambda: _("Extension notice recorded as sent on %(d)s.", d=day(form.sent_on.data)),
        "note": lambda: _("Note added."),
        "task": lambda: _("Task added: %(title)s", title=form.title.data.strip()),
        "task_done": lambda: _("Task done."),
        "link": lambda: _("Linked to %(ref)s.", ref=form.other.data.strip()),
        "merge": lambda: _("Merged into %(ref)s.", ref=form.target.data.strip()),
        "upload": lambda: _("Attached %(name)s.", name=case.attachments[-1].filename)
        if case.attachments else _("Attached."),
    }
    message = messages.get(action)
    return message() if message else _("Done: the case is now %(state)s.", state=STATE_LABELS[case.state])


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def _anchor(action: str) -> str:
    return {"note": "#notes", "task": "#tasks", "task_done": "#tasks", "upload": "#attachments"}.get(action, "")


@bp.route("/cases/<reference>/act/<action>", methods=["GET"])
@roles_required(*WRITERS)
def act_get(reference: str, action: str):
    # A bookmarked or reloaded action URL goes back to the case instead of erroring.
    return redirect(url_for("cases.detail", reference=reference))
