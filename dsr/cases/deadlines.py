"""The bridge between the pure clock (``dsr.domain.clock``) and stored cases.

Stored on the case (so the queue can sort and filter in SQL): the promise, the legal deadline and the
extended deadline, each including the days of *ended* pauses that count. A pause still running moves
the deadlines day by day; :func:`case_clock` adds it for display, so a paused case's days left stand still.
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app, g, has_app_context
from sqlalchemy.dialects.postgresql import aggregate_order_by

from dsr.api.auth import read_with_the_token
from dsr.cases.models import Case, DeclaredHoliday
from dsr.domain import clock
from dsr.domain.calendar_nl import WorkingDayCalendar
from dsr.domain.pauses import PauseInterval, ask_deadline, closed_paused_days, counted_paused_days
from dsr.extensions import read
from dsr.timeutil import local_date

# The calendar of the declared days last read, shared by the requests that read the same days: a calendar is
# a function of them alone, and it carries the deadlines it has computed (``_memo``), so a list of 25 cases
# does not compute them again on every request (issue 15, item 3).
_SHARED: list = [None, None]


def working_calendar() -> WorkingDayCalendar:
    """The Dutch working-day calendar plus the declared days kept in the database (read once per request)."""
    if has_app_context() and "dsr_calendar" in g:
        return g.dsr_calendar
    return _calendar_of(tuple(sorted(map(tuple, read(_declared_days())))))  # (day, name) pairs


@functools.cache
def _declared_days() -> sa.Select:
    """The declared days as plain columns: every request with a clock reads them, with a statement made once per
    process (issue 15, item 3)."""
    table = DeclaredHoliday.__table__
    return sa.select(table.c.day, table.c.name)


def _calendar_of(rows: tuple[tuple[date, str], ...]) -> WorkingDayCalendar:
    """The calendar of these declared days (sorted (day, name) pairs), the request's from now on."""
    key, calendar = _SHARED
    if key != rows:
        calendar = WorkingDayCalendar({day: name for day, name in rows})
        _SHARED[:] = [rows, calendar]
    if has_app_context():
        g.dsr_calendar = calendar
    return calendar


@functools.cache
def _declared_days_columns(dialect: str) -> tuple:
    """The declared days as two arrays (days, names; in the order of the days), for the token's statement of
    every API request (:func:`dsr.api.auth.read_with_the_token`): one round trip less. PostgreSQL only; on
    SQLite, where a statement is a function call, they are read apart."""
    if dialect != "postgresql":
        return ()
    table = DeclaredHoliday.__table__
    return tuple(sa.select(sa.func.array_agg(aggregate_order_by(column, table.c.day))).scalar_subquery()
                 for column in (table.c.day, table.c.name))


def _use_declared_days(days: list[date] | None, names: list[str] | None) -> None:
    _calendar_of(tuple(zip(days or (), names or (), strict=True)))


read_with_the_token(_declared_days_columns, _use_declared_days)


def forget_calendar() -> None:
    """Call after the declared holidays change, so the next computation sees them."""
    if has_app_context():
        g.pop("dsr_calendar", None)


def extension_rule() -> clock.ExtensionRule:
    """How the extended deadline is counted: the ``EXTENDED_DEADLINE_RULE`` setting (an open point, README)."""
    if has_app_context():
        return clock.ExtensionRule(current_app.config.get("EXTENDED_DEADLINE_RULE", clock.ExtensionRule.EARLIER))
    return clock.ExtensionRule.EARLIER


def pause_intervals(case: Case) -> list[PauseInterval]:
    return [PauseInterval(p.requested_on, p.resumed_on, p.counted) for p in case.pauses]


def apply_deadlines(case: Case, calendar: WorkingDayCalendar) -> None:
    """Recompute the stored deadlines from receipt, ended counted pauses and any extension."""
    paused = closed_paused_days(pause_intervals(case)) if case.pauses else 0
    case.paused_days = paused
    case.promised_on = clock.promised_on(case.received_on, paused)
    case.legal_due_on = clock.legal_due_on(case.received_on, calendar, paused)
    if case.extended_due_on is not None:
        case.extended_due_on = clock.extended_due_on(case.received_on, calendar, paused, extension_rule())


@dataclass(frozen=True)
class CaseClock:
    """What the case page, the queue and the API say about a case's time, on a given day."""

    today: date
    promised_on: date
    legal: clock.Deadline
    extended: clock.Deadline | None
    paused_days: int
    paused_since: date | None
    pauses: tuple[PauseInterval, ...]
    ask_deadline: date
    days_left: int
    status: clock.DeadlineStatus
    # Harmony's promise is a plain 4 weeks (``promised_on``); the answer goes out by the last working day on
    # or before it. That one date is what the case page, the queue, the letters and the reports state.
    promise_answer_by: date
    promise_days_left: int
    # Why the promise's 28th day is not a working day ("Sunday", "King's Day"); None when it is one.
    promise_not_working: str | None = None

    @property
    def due_on(self) -> date:
        """The deadline in force: the extended one after an extension."""
        return (self.extended or self.legal).due_on

    @property
    def paused(self) -> bool:
        return self.paused_since is not None

    @property
    def promise_moved(self) -> bool:
        """Whether the promise's 28th day is not a working day, so the answer is due the working day before."""
        return self.promise_answer_by != self.promised_on

    @property
    def past_promise(self) -> bool:
        """Past Harmony's promise: today is after the last working day on or before it."""
        return self.today > self.promise_answer_by


# Deadlines depend only on the day of receipt, the paused days and the calendar, and a list of thousands of
# cases has only a few hundred distinct days of receipt: each calendar (one per request) remembers them.
_MEMOS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _memo(calendar: WorkingDayCalendar):
    store = _MEMOS.get(calendar)
    if store is None:
        store = _MEMOS[calendar] = {}

    def get(*key, compute):
        if key not in store:
            store[key] = compute()
        return store[key]

    return get


def answer_dates(received_on: date, paused: int, extended: bool, calendar: WorkingDayCalendar,
                 rule: clock.ExtensionRule) -> tuple[date, date]:
    """(promise_answer_by, due_on) exactly as :func:`case_clock` computes them from these facts, remembered
    per calendar: the dashboard asks this for tens of thousands of answered cases."""
    memo = _memo(calendar)
    legal = memo("legal", received_on, paused, compute=lambda: clock.legal_deadline(received_on, calendar, paused))
    due = legal
    if extended:
        due = memo("extended", received_on, paused, rule, compute=lambda: clock.legal_deadline(
            received_on, calendar, paused, months=clock.EXTENDED_MONTHS, rule=rule))
    promise = clock.promised_on(received_on, paused)
    answer_by = memo("answer_by", promise, compute=lambda: clock.promise_answer_by(promise, calendar))
    return answer_by, due.due_on


def case_clock(case: Case, calendar: WorkingDayCalendar, today: date, *, soon_days: int = clock.DUE_SOON_DAYS,
               ask_working_days: int = 5, rule: clock.ExtensionRule | None = None) -> CaseClock:
    """What a case's clock says on ``today``; ``rule`` defaults to the configured :func:`extension_rule`."""
    rule = rule or extension_rule()
    intervals = tuple(pause_intervals(case))
    # A decided case's clock stopped when it was closed: a pause still open then counts up to that day only.
    until = min(today, local_date(case.closed_at)) if case.closed_at else today
    paused = counted_paused_days(intervals, until)
    memo = _memo(calendar)
    received = case.received_on
    legal = memo("legal", received, paused, compute=lambda: clock.legal_deadline(received, calendar, paused))
    extended = (memo("extended", received, paused, rule, compute=lambda: clock.legal_deadline(
        received, calendar, paused, months=clock.EXTENDED_MONTHS, rule=rule))
        if case.extended_due_on is not None else None)
    due = (extended or legal).due_on
    promise = clock.promised_on(received, paused)
    answer_by = memo("answer_by", promise, compute=lambda: clock.promise_answer_by(promise, calendar))
    return CaseClock(
        today=today,
        promised_on=promise,
        legal=legal,
        extended=extended,
        paused_days=paused,
        paused_since=case.paused_since,
        pauses=intervals,
        ask_deadline=memo("ask", received, ask_working_days,
                          compute=lambda: ask_deadline(received, calendar, ask_working_days)),
        days_left=clock.days_left(due, today),
        status=clock.deadline_status(due, today, soon_days),
        promise_answer_by=answer_by,
        promise_days_left=clock.days_left(answer_by, today),
        promise_not_working=memo("not_working", promise, compute=lambda: calendar.non_working_reason(promise)),
    )
