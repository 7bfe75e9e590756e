"""What each row of the queue page shows, worked out once per page in Python (issue 15, item 3).

A row used to call a dozen template macros and translations (the state's label, the rights' badges, the
days left, the status badge), some 45 template calls a row. Most of them give one of a few outputs on a
page (eight states, a handful of right combinations, a few dozen distinct "days left"): here each macro runs
once per distinct input and a row reuses its output. The macros stay the templates' own, so the page is the
same byte for byte, escaping included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from markupsafe import Markup

from dsr.domain.enums import Priority
from dsr.timeutil import format_day


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
    days: dict = {}

    def day(value):  # a page shows some 75 dates, a few dozen distinct ones
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
        rights = tuple(case.right_values)
        items = warnings.get(case.id) or ()
        out.append(QueueRow(
            id=case.id, reference=case.reference, version=case.version, url=case_url(case.reference),
            subject=subject.name if subject is not None else "",
            customer_number=(subject.customer_number or "") if subject is not None else "",
            # rights_badges reads the case's rights only; a stand-in with the same rights gives the same badges
            rights=once(rights_badges, rights, _Rights(rights)),
            state=once(state_label, case.state, case.state),
            assignee=case.assignee.name if case.assignee is not None else "—",
            received=day(case.received_on),
            open=is_open, paused=paused,
            promise_by=day(clock.promise_answer_by), past_promise=clock.past_promise,
            due_on=day(clock.due_on), extended=clock.extended is not None,
            # days_left and status_badge read only the clock's days left and status
            left=once(days_left, clock.days_left, clock) if is_open and not paused else "",
            status=once(status_badge, (clock.status, clock.days_left), clock) if is_open and not paused else "",
            late_pause=bool(case.late_pause_requests), notice_owed=case.extension_notice_owed,
            open_tasks=task_counts.get(case.id) or 0, high=case.priority == Priority.HIGH,
            badges=(badges(items) if items else once(badges, (), ())) if is_open else "",
        ))
    return out


@dataclass(frozen=True, slots=True)
class _Rights:
    right_values: tuple
