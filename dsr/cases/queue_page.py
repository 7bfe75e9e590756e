"""The queue page's rows: read as plain rows and worked out once per page in Python (issue 15, item 3).

The page read its 25 cases as ORM objects with their subjects, assignees, rights and pauses, some 1,000
attributes set up and tracked for a page that only shows them: :func:`queue_page` reads the columns a row
shows, in the same statements, into :class:`QueueCase`, which the clock and the warnings read as they read a
case. And a row called a dozen template macros and translations (the state's label, the rights' badges, the
days left, the status badge), some 45 template calls a row, most of which give one of a few outputs on a page
(eight states, a handful of right combinations, a few dozen distinct "days left"): :func:`queue_rows` runs each
macro once per distinct input and a row reuses its output. The macros stay the templates' own, so the page is
the same byte for byte, escaping included.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import get_locale
from markupsafe import Markup
from sqlalchemy.orm import aliased

from dsr.auth.models import User
from dsr.cases.models import Case, CasePause, CaseRight
from dsr.cases.queries import QueueFilters, paginate, queue_query
from dsr.domain.enums import CaseState, Priority, Right
from dsr.domain.pauses import PauseInterval
from dsr.extensions import db
from dsr.subjects.models import DataSubject
from dsr.timeutil import format_day

_RIGHT_ORDER = {right: i for i, right in enumerate(Right)}


class Named(NamedTuple):
    name: str | None
    customer_number: str | None = None


@dataclass(slots=True)
class QueueCase:
    """What the queue's rows, their clocks and their warnings read of a case, by the names
    :class:`~dsr.cases.models.Case` gives them (:func:`~dsr.cases.deadlines.case_clock` and the warnings read
    it as they read a stored case), from plain rows instead of ORM objects (issue 15, item 3)."""

    id: int
    reference: str
    version: int
    state: CaseState
    received_on: date
    closed_at: datetime | None
    paused_since: date | None
    extended_due_on: date | None
    extension_notice_due_on: date | None
    extension_notice_sent_on: date | None
    late_pause_requests: int
    priority: Priority
    assignee_id: int | None
    subject: Named | None
    assignee: Named | None
    right_values: list[Right]
    pauses: list[PauseInterval]

    @property
    def extension_notice_owed(self) -> bool:
        return self.extended_due_on is not None and self.extension_notice_sent_on is None


def queue_page(filters: QueueFilters, day: date, *, page: int, per_page: int):
    """A page of the queue as :class:`QueueCase` items with its bounded count: the cases with their subject's
    and assignee's names in one statement, their rights and pauses in one each."""
    subject, assignee = aliased(DataSubject), aliased(User)  # the filters' own sub-queries name the tables
    stmt = (queue_query(filters, day, loads=())
            .with_only_columns(Case.id, Case.reference, Case.version, Case.state, Case.received_on, Case.closed_at,
                               Case.paused_since, Case.extended_due_on, Case.extension_notice_due_on,
                               Case.extension_notice_sent_on, Case.late_pause_requests, Case.priority,
                               Case.assignee_id, Case.subject_id, subject.name.label("subject_name"),
                               subject.customer_number, assignee.name.label("assignee_name"),
                               maintain_column_froms=True)
            .outerjoin(subject, subject.id == Case.subject_id).outerjoin(assignee, assignee.id == Case.assignee_id))
    result = paginate(stmt, page=page, per_page=per_page, rows=True)
    ids = [row.id for row in result.items]
    rights: dict[int, list[Right]] = {}
    pauses: dict[int, list[PauseInterval]] = {}
    if ids:
        for case_id, right in db.session.execute(
                sa.select(CaseRight.case_id, CaseRight.right).where(CaseRight.case_id.in_(ids))):
            rights.setdefault(case_id, []).append(right)
        for case_id, requested, resumed, counted in db.session.execute(
                sa.select(CasePause.case_id, CasePause.requested_on, CasePause.resumed_on, CasePause.counted)
                .where(CasePause.case_id.in_(ids)).order_by(CasePause.id)):
            pauses.setdefault(case_id, []).append(PauseInterval(requested, resumed, counted))
    result.items = [QueueCase(
        id=row.id, reference=row.reference, version=row.version, state=row.state, received_on=row.received_on,
        closed_at=row.closed_at, paused_since=row.paused_since, extended_due_on=row.extended_due_on,
        extension_notice_due_on=row.extension_notice_due_on, extension_notice_sent_on=row.extension_notice_sent_on,
        late_pause_requests=row.late_pause_requests, priority=row.priority, assignee_id=row.assignee_id,
        subject=Named(row.subject_name, row.customer_number) if row.subject_id is not None else None,
        assignee=Named(row.assignee_name) if row.assignee_id is not None else None,
        right_values=sorted(rights.get(row.id, ()), key=_RIGHT_ORDER.__getitem__),
        pauses=pauses.get(row.id, []),
    ) for row in result.items]
    return result


@dataclass(slots=True)
class QueueRow:
    id: int
    reference: str
    version: int
    url: str
    subject: str
    customer_number: str
    rights: Markup
    state: Markup
    assignee: str
    received: str
    open: bool
    paused: bool
    promise_by: str
    past_promise: bool
    due_on: str
    extended: bool
    left: Markup | str
    status: Markup | str
    late_pause: bool
    notice_owed: bool
    open_tasks: int
    high: bool
    badges: Markup | str


_DAYS: dict[str, dict] = {}


def _days_in(locale) -> dict:
    """The dates of the queue's rows as :func:`~dsr.timeutil.format_day` shows them in ``locale``, kept per
    process and language: each ``format_day`` finds the request's locale again through Flask-Babel's context
    (some 70 distinct dates a page, a dozen calls each). Cleared when it grows past a few years of dates."""
    key = str(locale)
    days = _DAYS.get(key)
    if days is None or len(days) > 20_000:
        days = _DAYS[key] = {}
    return days


class _Once:
    """A macro's output per distinct key, for one page."""

    def __init__(self) -> None:
        self.seen: dict = {}

    def __call__(self, macro: Callable, key, *args):
        try:
            return self.seen[macro, key]
        except KeyError:
            out = self.seen[macro, key] = macro(*args)
            return out


def queue_rows(rows: Iterable, task_counts: dict[int, int], case_url: Callable[[str], str], *, warnings: dict,
               state_label: Callable, days_left: Callable, status_badge: Callable, rights_badges: Callable,
               badges: Callable) -> list[QueueRow]:
    """The rows of (case, clock) as the template prints them; the macros are the template's (called from it,
    so they see its context), ``warnings`` the badges' items per case id (only those the queue shows)."""
    once = _Once()
    days = _days_in(get_locale())

    def day(value):  # a page shows some 75 dates, most of them shown on other pages of the same language too
        try:
            return days[value]
        except KeyError:
            text = days[value] = format_day(value)
            return text

    out = []
    for case, clock in rows:
        is_open = case.state.is_open
        paused = clock.paused
        subject = case.subject
        items = warnings.get(case.id) or ()
        out.append(QueueRow(
            id=case.id, reference=case.reference, version=case.version, url=case_url(case.reference),
            subject=subject.name if subject is not None else "",
            customer_number=(subject.customer_number or "") if subject is not None else "",
            # rights_badges reads the case's rights only
            rights=once(rights_badges, tuple(case.right_values), case),
            state=once(state_label, case.state, case.state),
            assignee=case.assignee.name if case.assignee is not None else "—",
            received=day(case.received_on),
            open=is_open, paused=paused,
            promise_by=day(clock.promise_answer_by), past_promise=clock.past_promise,
            due_on=day(clock.due_on), extended=clock.extended is not None,
            # days_left reads only the clock's days left, status_badge its status and whether that is 0
            left=once(days_left, clock.days_left, clock) if is_open and not paused else "",
            status=once(status_badge, (clock.status, clock.days_left == 0), clock) if is_open and not paused else "",
            late_pause=bool(case.late_pause_requests), notice_owed=case.extension_notice_owed,
            open_tasks=task_counts.get(case.id) or 0, high=case.priority == Priority.HIGH,
            badges=(badges(items) if items else once(badges, (), ())) if is_open else "",
        ))
    return out
