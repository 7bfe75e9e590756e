"""Everything the case page shows, gathered in one place (the page is read far more than it is changed)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from dsr.audit.models import AuditEvent
from dsr.auth.models import User
from dsr.cases import action_forms as F
from dsr.cases.census import counted, known_empty
from dsr.cases.deadlines import case_clock, working_calendar
from dsr.cases.duplicates import linked_cases, open_duplicates, previous_request, recent_requests
from dsr.cases.history import case_events, readable_history
from dsr.cases.lazy_forms import LazyForms
from dsr.cases.models import Case
from dsr.domain.enums import CLOSED_STATES, CaseState, LookupMatch, LookupStatus, Role, VerificationOutcome
from dsr.domain.workflow import MANAGER_ACTIONS, Action, allowed_actions
from dsr.extensions import db, read
from dsr.identity.models import IdentityVerification
from dsr.tasks.models import CaseNote, CaseTask
from dsr.texts.models import TextPurpose
from dsr.texts.picker import subject_text_field
from dsr.timeutil import moment_formatter, today

TRANSITION_LABELS = {
    Action.START_IDENTITY_CHECK: _l("Start identity check"),
    Action.START_WORK: _l("Start work"),
    Action.SUBMIT_FOR_APPROVAL: _l("Submit for approval"),
    Action.CLOSE: _l("Archive"),
}


@dataclass(frozen=True)
class Step:
    """One button of "Next steps": a transition (posted) or a place on the page to go to (``anchor``)."""

    label: str
    primary: bool = False
    action: Action | None = None
    anchor: str | None = None


def next_steps(case: Case, *, verifications: list, is_manager: bool) -> list[Step]:
    """What the case needs next as the primary step, then the other moves that make sense from here.

    A step that would move the case backwards (an identity check after identity was verified) or skip the
    work (submitting for approval before any search of Harmony's systems) is not offered.
    """
    # Features build on cases; the page reads what they recorded.
    from dsr.fulfilment.lookup_ops import shown_lookups

    verified = any(v.outcome is VerificationOutcome.VERIFIED for v in verifications)
    lookups = shown_lookups(case)
    latest = lookups[0] if lookups else None
    allowed = set(allowed_actions(case.state))
    if not is_manager:
        allowed -= MANAGER_ACTIONS
    steps: list[Step] = []

    def go(action: Action, primary: bool = False) -> None:
        if action in allowed:
            steps.append(Step(str(TRANSITION_LABELS[action]), primary=primary, action=action))

    state = case.state
    if state is CaseState.RECEIVED:
        go(Action.START_WORK, primary=True)
        if not verified:
            go(Action.START_IDENTITY_CHECK)
    elif state is CaseState.IDENTITY_CHECK:
        if verified:
            go(Action.START_WORK, primary=True)
        else:
            steps.append(Step(str(_l("Record the identity check")), primary=True, anchor="identity"))
            go(Action.START_WORK)
    elif state is CaseState.IN_PROGRESS:
        if latest is None or latest.status is LookupStatus.FAILED:
            steps.append(Step(str(_l("Find the data")), primary=True, anchor="data"))
        elif latest.match == LookupMatch.PENDING:
            steps.append(Step(str(_l("Confirm or reject the match")), primary=True, anchor="data"))
        else:
            go(Action.SUBMIT_FOR_APPROVAL, primary=True)
        if not verified:
            go(Action.START_IDENTITY_CHECK)
    elif state is CaseState.AWAITING_APPROVAL:
        if is_manager:
            steps.append(Step(str(_l("Review and complete")), primary=True, anchor="approve"))
    else:
        go(Action.CLOSE, primary=True)
    return steps


def case_notes(case_id: int) -> list[sa.Row]:
    """The case's notes, newest first, as plain rows with their author's name (``id``, ``body``,
    ``created_at``, ``author_id``, ``author_name``): the page only shows them, and a case with forty notes
    made forty ORM objects and looked up each one's author through its relationship (issue 15, item 3)."""
    return read(_NOTES, {"case_id": case_id}).all()


_NOTES = (
    sa.select(CaseNote.id, CaseNote.body, CaseNote.created_at, CaseNote.author_id, User.name.label("author_name"))
    .outerjoin(User, User.id == CaseNote.author_id)
    .where(CaseNote.case_id == sa.bindparam("case_id"))
    .order_by(CaseNote.id.desc())
)


def case_verifications(case_id: int) -> list[sa.Row]:
    """The case's identity checks, oldest first, as plain rows with the name of who checked (``id``, ``method``,
    ``outcome``, ``note``, ``verified_at``, ``verified_by_id``, ``verified_by_name``): the page and its next
    steps only read them."""
    return read(_VERIFICATIONS, {"case_id": case_id}).all()


_VERIFICATIONS = (
    sa.select(IdentityVerification.id, IdentityVerification.method, IdentityVerification.outcome,
              IdentityVerification.note, IdentityVerification.verified_at, IdentityVerification.verified_by_id,
              User.name.label("verified_by_name"))
    .outerjoin(User, User.id == IdentityVerification.verified_by_id)
    .where(IdentityVerification.case_id == sa.bindparam("case_id"))
    .order_by(IdentityVerification.id)
)


def _assignable() -> list[User]:
    return list(db.session.execute(_people()).scalars())


# The page's statements of objects, made once per process with their values as parameters: building a
# statement and its cache key, which SQLAlchemy keeps on the statement, cost some hundreds of Python calls
# each time (issue 15, item 3).
@functools.cache
def _people() -> sa.Select:
    """The people a case can be given to (and whose names the history and the notes' authors need)."""
    return sa.select(User).where(User.active.is_(True), User.role != Role.AUDITOR).order_by(User.name)


@functools.cache
def _subject_cases() -> sa.Select:
    """The subject's cases, newest first, with their rights."""
    return (sa.select(Case).where(Case.subject_id == sa.bindparam("subject_id")).options(selectinload(Case.rights))
            .order_by(Case.received_on.desc(), Case.id.desc()))


@functools.cache
def _tasks() -> sa.Select:
    """The case's tasks, open ones first, by due date."""
    return (sa.select(CaseTask).where(CaseTask.case_id == sa.bindparam("case_id"))
            .order_by(CaseTask.done_at.is_not(None), CaseTask.due_on, CaseTask.id))


PANELS = {"complete": "approve", "send_back": "send_back", "refuse": "refuse", "withdraw": "withdraw",
          "verify": "identity", "pause": "clock", "resume": "clock", "extend": "clock", "extension_notice": "clock"}


# The actions whose form carries the text for the subject their letter quotes (issue 14.2).
TEXT_ACTIONS = {"refuse": TextPurpose.REFUSAL, "extend": TextPurpose.EXTENSION,
                "pause": TextPurpose.INFORMATION_REQUEST}


def _subject_text_fields(case: Case, forms: dict) -> dict[str, dict]:
    """Per action of :data:`TEXT_ACTIONS`: the case's language, the library's standard paragraphs for its
    purpose in that language, and the one ``?for=<action>&paragraph=<id>`` chose, pre-filled into the field."""
    return {action: subject_text_field(case, purpose, action, forms[action].subject_text)
            for action, purpose in TEXT_ACTIONS.items()}


def case_page_context(case: Case, *, error: str | None = None, conflict_since: int | None = None,
                      failed: tuple | None = None) -> dict:
    day = today()
    # The subject's cases with their rights in two statements: the page lists every earlier case.
    subject_cases = db.session.execute(
        sa.select(Case).where(Case.subject_id.is_(None)).options(selectinload(Case.rights))
        .order_by(Case.received_on.desc(), Case.id.desc()) if case.subject_id is None else _subject_cases(),
        {} if case.subject_id is None else {"subject_id": case.subject_id}).scalars().all()
    if case.subject is not None and "cases" not in sa.inspect(case.subject).dict:
        # The same list, newest first, is the subject's ``cases``: the earlier and recent requests read it.
        set_committed_value(case.subject, "cases", list(subject_cases))
    state = sa.inspect(case)
    for name, table in (("pauses", "case_pauses"), ("attachments", "attachments")):
        if name not in state.dict and known_empty(case, table):
            set_committed_value(case, name, [])
    calendar = working_calendar()
    clock = case_clock(case, calendar, day, soon_days=current_app.config["DUE_SOON_DAYS"],
                       ask_working_days=current_app.config["PAUSE_ASK_WORKING_DAYS"])
    events = case_events(case.id)
    last_event = events[0].id if events else 0
    users = _assignable()
    user_choices = [("", "—")] + [(str(u.id), u.name) for u in users]

    def form(cls, action, **data):
        return lambda: cls(prefix=action, formdata=None, version=case.version, last_event=last_event, **data)

    def assign_form():
        made = form(F.AssignForm, "assign")()
        made.assignee.choices = [("", _("Choose a person…"))] + [
            (str(u.id), u.name) for u in users if u.id != case.assignee_id]
        return made

    def task_form():
        made = form(F.TaskForm, "task")()
        made.assignee.choices = user_choices
        return made

    forms = LazyForms({
        "assign": assign_form,
        "take": form(F.TransitionForm, "take"),
        "unassign": form(F.TransitionForm, "unassign"),
        "priority": form(F.PriorityForm, "priority", priority=case.priority.value),
        "send_back": form(F.SendBackForm, "send_back"),
        "complete": form(F.CompleteForm, "complete"),
        "refuse": form(F.RefuseForm, "refuse"),
        "withdraw": form(F.WithdrawForm, "withdraw"),
        "verify": form(F.VerifyForm, "verify"),
        "confirm_id": form(F.ConfirmIdForm, "confirm_id"),
        "pause": form(F.PauseForm, "pause", requested_on=day),
        "resume": form(F.ResumeForm, "resume", received_on=day),
        "extend": form(F.ExtendForm, "extend"),
        "extension_notice": form(F.NoticeForm, "extension_notice", sent_on=day),
        "note": form(F.NoteForm, "note"),
        "task": task_form,
        "task_done": form(F.TaskDoneForm, "task_done"),
        "link": form(F.LinkForm, "link"),
        "merge": form(F.MergeForm, "merge"),
        "upload": form(F.UploadForm, "upload"),
        **{action: form(F.TransitionForm, action)
           for action in ("start_identity_check", "start_work", "submit_for_approval", "close")},
    })

    # The forms with a text for the subject, and the panel a chosen paragraph opens, are shown only in the
    # "Next steps" card of an open case to a person who may write.
    shown = current_user.can_write and case.state not in CLOSED_STATES
    subject_texts = _subject_text_fields(case, forms) if shown or failed is not None else {}
    open_panel = next((PANELS[a] for a, st in subject_texts.items() if st["prefilled"]), None)
    if failed is not None:
        action, submitted = failed
        if action in forms:
            # Keep what was typed; the version stays the one the page was rendered with (still current).
            submitted.version.data = case.version
            submitted.last_event.data = str(last_event)
            if hasattr(submitted, "assignee") and hasattr(forms[action], "assignee"):
                submitted.assignee.choices = forms[action].assignee.choices
            forms[action] = submitted
        open_panel = PANELS.get(action)

    is_manager = current_user.role is Role.PRIVACY_MANAGER
    verifications = [] if known_empty(case, "identity_verifications") else case_verifications(case.id)
    steps = next_steps(case, verifications=verifications, is_manager=is_manager)
    from dsr.cases.checklist import checklist

    checks = checklist(case, day) if case.state not in CLOSED_STATES else []
    previous = previous_request(case)
    conflict = []
    if conflict_since is not None:
        # Shown with their actors and details as the audit trail shows them: ORM objects, on this rare page.
        conflict = list(db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.id > conflict_since)
            .order_by(AuditEvent.id.desc())).scalars())
    moment = moment_formatter()
    tasks = [] if known_empty(case, "case_tasks") else list(
        db.session.execute(_tasks(), {"case_id": case.id}).scalars())
    return {
        "KIND_LABELS": F.KIND_LABELS, "METHOD_LABELS": F.METHOD_LABELS, "OUTCOME_LABELS": F.OUTCOME_LABELS,
        "REFUSAL_LABELS": F.REFUSAL_LABELS, "LINK_LABELS": F.LINK_LABELS,
        "case": case,
        "clock": clock,
        "events": events,
        "history": readable_history(events, tasks, users, moment),
        # The page's moments formatted with the language and time zone found once (``|moment`` asks
        # Flask-Babel for both again for each: forty notes, forty times).
        "moment": moment,
        "today": day,
        "forms": forms,
        "steps": steps,
        "checklist": checks,
        "checklist_open": any(not c.done for c in checks),
        "transitions": [s.action for s in steps if s.action],
        "can_write": current_user.can_write,
        "is_manager": is_manager,
        "is_open": case.state not in CLOSED_STATES,
        "earlier": [c for c in subject_cases if c.id != case.id],
        "recent": recent_requests(case, day),
        "previous": previous,
        # EDPB 01/2022 §185: a request a year after the last one is never excessive (calendar months).
        "previous_over_a_year": previous is not None
        and previous.received_on < case.received_on - relativedelta(months=12),
        "duplicates": open_duplicates(case),
        "links": linked_cases(case),
        "verifications": verifications,
        "notes": [] if known_empty(case, "case_notes") else case_notes(case.id),
        "tasks": tasks,
        "error": error,
        "open_panel": open_panel,
        "subject_texts": subject_texts,
        "conflict": conflict,
        "conflicted": conflict_since is not None,
        "ask_working_days": current_app.config["PAUSE_ASK_WORKING_DAYS"],
    }


def render_case(case: Case, *, error: str | None = None, conflict_since: int | None = None, status: int = 200,
                failed: tuple | None = None):
    """The case page; also shown again, with the reason, when an action on it was refused.

    ``failed`` is (action, form) of a refused action: its form is shown as submitted, with its errors.
    """
    if case.reduced_at is not None:  # dsr's own retention left only the bare facts (dsr.casefiles)
        from dsr.audit.queries import case_events

        return render_template("casefiles/reduced.html", case=case, events=case_events(case.id)), status
    with counted(case):
        return render_template("cases/detail.html", **case_page_context(
            case, error=error, conflict_since=conflict_since, failed=failed)), status
