"""Notes and tasks on a case. Notes are stored exactly as typed and escaped wherever they are shown."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.audit.operations import record
from dsr.auth.models import User
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.cases.guards import WRITERS, require_role
from dsr.cases.models import Case
from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.tasks import titles
from dsr.tasks.models import CaseNote, CaseTask
from dsr.tasks.titles import TITLE_MAX

NOTE_MAX = 5000


def add_note(case: Case, body: str, *, actor, now: datetime) -> CaseNote:
    require_role(actor, *WRITERS, what=_l("add a note"))
    if not (body or "").strip():
        raise InvalidInput(_("The note is empty."), "body")
    if len(body) > NOTE_MAX:
        raise InvalidInput(_("A note has at most %(n)d characters.", n=NOTE_MAX), "body")
    note = CaseNote(case_id=case.id, author_id=actor.id if actor else None, body=body, created_at=now)
    db.session.add(note)
    record("note.added", actor=actor, now=now, case=case, after={"body": body})
    return note


def add_task(case: Case, title: str, *, assignee: User | None, due_on: date | None, actor, now: datetime,
             today: date, kind: str | None = None, params: dict | None = None) -> CaseTask:
    """A task on the case; ``title`` as typed, or, with ``kind`` and ``params``, an automatic task's English
    title (:func:`add_automatic_task`)."""
    require_role(actor, *WRITERS, what=_l("add a task"))
    if not (title or "").strip():
        raise InvalidInput(_("Give the task a title."), "title")
    if len(title) > TITLE_MAX:
        raise InvalidInput(_("A task title has at most %(n)d characters.", n=TITLE_MAX), "title")
    if due_on is not None and due_on < today:
        raise InvalidInput(_("A new task cannot be due in the past."), "due_on")
    if assignee is not None and (assignee.role is Role.AUDITOR or not assignee.active):
        raise InvalidInput(_("%(email)s cannot be given tasks.", email=assignee.email), "assignee")
    task = CaseTask(case_id=case.id, title=title, assignee_id=assignee.id if assignee else None, due_on=due_on,
                    created_by_id=actor.id if actor else None, created_at=now, kind=kind,
                    params=params if kind else None)
    db.session.add(task)
    db.session.flush()
    after = {"task_id": task.id, "title": title, "assignee": assignee.email if assignee else None, "due_on": due_on}
    if kind:
        after["kind"] = kind
    record("task.added", actor=actor, now=now, case=case, after=after)
    return task


def add_automatic_task(case: Case, kind: str, params: dict, *, assignee: User | None, actor, now: datetime,
                       today: date) -> CaseTask:
    """A task dsr creates: its ``kind`` (registered in :mod:`dsr.tasks.titles`) and ``params`` are kept, so
    that every page writes its title in the reader's language; the row keeps the English title."""
    return add_task(case, titles.english(kind, params), assignee=assignee, due_on=None, actor=actor, now=now,
                    today=today, kind=kind, params=params)


def complete_task(task: CaseTask, *, actor, now: datetime) -> None:
    require_role(actor, *WRITERS, what=_l("complete a task"))
    if task.done_at is not None:
        raise RuleViolation(_("This task is already done."))
    task.done_at = now
    task.done_by_id = actor.id if actor else None
    case = db.session.get(Case, task.case_id)
    record("task.completed", actor=actor, now=now, case=case, after={"task_id": task.id, "title": task.title})
