"""The bridge between the pure clock (``dsr.domain.clock``) and stored cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import g, has_app_context

from dsr.cases.models import Case, DeclaredHoliday
from dsr.domain import clock
from dsr.domain.calendar_nl import WorkingDayCalendar
from dsr.extensions import db


def working_calendar() -> WorkingDayCalendar:
    """The Dutch working-day calendar plus the declared days kept in the database (cached per request)."""
    if has_app_context() and "dsr_calendar" in g:
        return g.dsr_calendar
    rows = db.session.execute(sa.select(DeclaredHoliday.day, DeclaredHoliday.name)).all()
    calendar = WorkingDayCalendar({day: name for day, name in rows})
    if has_app_context():
        g.dsr_calendar = calendar
    return calendar


def forget_calendar() -> None:
    """Call after the declared holidays change, so the next computation sees them."""
    if has_app_context():
        g.pop("dsr_calendar", None)


def apply_deadlines(case: Case, calendar: WorkingDayCalendar, *, paused_days: int = 0) -> None:
    """Store the promise (received + 28 days) and the legal deadline (Art. 12(3)) on the case."""
    case.promised_on = clock.promised_on(case.received_on, paused_days)
    case.legal_due_on = clock.legal_due_on(case.received_on, calendar, paused_days)


@dataclass(frozen=True)
class CaseClock:
    """What the case page and the API say about a case's time."""

    promised_on: date
    legal: clock.Deadline
    days_left: int
    status: clock.DeadlineStatus
    promise_days_left: int


def case_clock(case: Case, calendar: WorkingDayCalendar, today: date, *, soon_days: int = clock.DUE_SOON_DAYS,
               paused_days: int = 0) -> CaseClock:
    legal = clock.legal_deadline(case.received_on, calendar, paused_days)
    return CaseClock(
        promised_on=clock.promised_on(case.received_on, paused_days),
        legal=legal,
        days_left=clock.days_left(legal.due_on, today),
        status=clock.deadline_status(legal.due_on, today, soon_days),
        promise_days_left=clock.days_left(clock.promised_on(case.received_on, paused_days), today),
    )
