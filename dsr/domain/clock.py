"""The SLA clock: Harmony's 4-week promise and the legal deadline of GDPR Art. 12(3).

The clock starts on the day the request reached an official channel, whether or not anyone saw it
(EDPB Guidelines 01/2022 §159). The legal period is one month, extendable by two further months
(GDPR Art. 12(3)), counted under Regulation (EEC, Euratom) No 1182/71 art. 3, with the Dutch public
holidays of the Algemene termijnenwet art. 3 (see :mod:`dsr.domain.calendar_nl`).

Nothing here reads the wall clock: ``today`` is always an argument, so a page, a report and a test
computing the same case on the same day agree.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from dsr.domain.calendar_nl import WorkingDayCalendar

# Harmony's privacy statement promises an answer "within 4 weeks": a plain 28 days, stricter than the law.
PROMISE_DAYS = 28
# A week's warning leaves time to send an extension notice before the legal deadline (Art. 12(3)).
DUE_SOON_DAYS = 7

LEGAL_MONTHS = 1
# Art. 12(3): "extended by two further months", so three months counted from receipt.
EXTENDED_MONTHS = 3


class ExtensionRule(enum.StrEnum):
    """How "extended by two further months" (Art. 12(3)) is counted: an open point (LEGAL.md T4).

    ``EARLIER`` (the default) takes the earlier of receipt + 3 months and the end of the first month + 2
    months. Read with Regulation 1182/71 art. 3(2)(c), the two further months run from the end of the first
    month, which ends earlier than receipt + 3 months when the first month is cut short (received 31 January
    2025: the first month ends 28 February, two further months 28 April, against 30 April).
    ``THREE_MONTHS`` counts receipt + 3 months only (the reading of the EDPB's examples).
    """

    EARLIER = "earlier"
    THREE_MONTHS = "three_months"


@dataclass(frozen=True)
class Deadline:
    """A legal deadline together with how it was reached, so a case page can show why.

    ``period_end`` is the month arithmetic alone; ``before_roll`` adds the paused days; ``due_on`` is
    ``before_roll`` or, when that is not a working day, the next working day, and ``rolled_over`` lists
    each day skipped with its reason ("Saturday", "Sunday", "Easter Monday", ...).
    """

    due_on: date
    period_end: date
    paused_days: int
    before_roll: date
    rolled_over: tuple[tuple[date, str], ...]
    months: int


def promised_on(received_on: date, paused_days: int = 0) -> date:
    """Harmony's own promise: received on + 28 days + paused days.

    No roll-over to a working day: it is Harmony's own promise of a plain 4 weeks, not a period under
    Regulation 1182/71. Pauses move it like the legal deadline so that the two stay comparable on a case.
    """
    _check_paused(paused_days)
    return received_on + timedelta(days=PROMISE_DAYS + paused_days)


def promise_answer_by(promised: date, calendar: WorkingDayCalendar) -> date:
    """The last working day on or before Harmony's promise: the one date the promise is stated as.

    The promise (received on + 28 days + paused days) is a plain 4 weeks that may end on a weekend or a
    holiday; an answer cannot go out then, so the case page, the queue, the letters and the reports all
    use the working day before it. A letter never promises a Saturday, Sunday or holiday.
    """
    day = promised
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


def legal_deadline(
    received_on: date,
    calendar: WorkingDayCalendar,
    paused_days: int = 0,
    months: int = LEGAL_MONTHS,
    rule: ExtensionRule = ExtensionRule.EARLIER,
) -> Deadline:
    """The Art. 12(3) deadline for a request received on ``received_on``, counted by Regulation 1182/71 art. 3.

    * art. 3(1): the day of receipt is not counted, so the period runs from the next day;
    * art. 3(2)(c): a period in months ends on the day of the last month with the same date as the day
      of receipt; if that date does not exist, on the last day of that month (5 March → 5 April,
      31 August → 30 September, 31 January → 28/29 February). ``relativedelta`` does exactly this;
    * pauses (EDPB 01/2022 §159) then add ``paused_days``: the clock stood still that long, so the end
      moves by that many calendar days. They are added after the month arithmetic, not to the day of
      receipt, because a suspension lengthens the period by its duration; shifting the start instead
      would let month lengths change the effect of the same pause;
    * an extended period (``months`` > 1) ends, under :attr:`ExtensionRule.EARLIER`, at the earlier of
      receipt + ``months`` and the end of the first month + the further months (see :class:`ExtensionRule`);
    * art. 3(4): an end on a Saturday, Sunday or public holiday moves to the next working day. This comes
      last so the deadline itself is always a working day.
    """
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    _check_paused(paused_days)
    period_end = received_on + relativedelta(months=months)
    if months > LEGAL_MONTHS and rule is ExtensionRule.EARLIER:
        first_month_end = received_on + relativedelta(months=LEGAL_MONTHS)
        period_end = min(period_end, first_month_end + relativedelta(months=months - LEGAL_MONTHS))
    before_roll = period_end + timedelta(days=paused_days)
    due_on = calendar.next_working_day(before_roll)
    rolled: list[tuple[date, str]] = []
    day = before_roll
    while day < due_on:
        # next_working_day skipped it, so a reason exists; "non-working day" only guards a subclass.
        rolled.append((day, calendar.non_working_reason(day) or "non-working day"))
        day += timedelta(days=1)
    return Deadline(
        due_on=due_on,
        period_end=period_end,
        paused_days=paused_days,
        before_roll=before_roll,
        rolled_over=tuple(rolled),
        months=months,
    )


def legal_due_on(received_on: date, calendar: WorkingDayCalendar, paused_days: int = 0) -> date:
    """The one-month deadline of GDPR Art. 12(3) (also the deadline for a refusal, Art. 12(4))."""
    return legal_deadline(received_on, calendar, paused_days, LEGAL_MONTHS).due_on


def extended_due_on(received_on: date, calendar: WorkingDayCalendar, paused_days: int = 0,
                    rule: ExtensionRule = ExtensionRule.EARLIER) -> date:
    """The deadline after the Art. 12(3) extension "by two further months", counted as ``rule`` says.

    Counted from receipt (and the unrolled end of the first month) with the same rules rather than from
    the original deadline, so a roll-over of the first month does not carry into the second (LEGAL.md T4).
    """
    return legal_deadline(received_on, calendar, paused_days, EXTENDED_MONTHS, rule).due_on


def days_left(due_on: date, today: date) -> int:
    """Calendar days from ``today`` to ``due_on``: 0 on the day itself, negative once overdue."""
    return (due_on - today).days


class DeadlineStatus(enum.StrEnum):
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


def deadline_status(due_on: date, today: date, soon_days: int = DUE_SOON_DAYS) -> DeadlineStatus:
    """Overdue once ``today`` is after ``due_on``; due soon while 0 <= days left <= ``soon_days``.

    The deadline day itself is still "due soon", not overdue: a reply sent on ``due_on`` is in time.
    """
    if soon_days < 0:
        raise ValueError(f"soon_days must not be negative, got {soon_days}")
    left = days_left(due_on, today)
    if left < 0:
        return DeadlineStatus.OVERDUE
    if left <= soon_days:
        return DeadlineStatus.DUE_SOON
    return DeadlineStatus.ON_TRACK


def paused_days(intervals: Iterable[tuple[date, date | None]], today: date) -> int:
    """How many days the clock stood still (EDPB 01/2022 §159), counting overlapping pauses once.

    Each interval is ``(asked_on, arrived_on)``: the day the information needed to identify the subject
    or understand the request was asked for, and the day it arrived, or ``None`` while still awaited.
    A pause from A to B suspends ``(B - A).days`` days: the clock stops on the day of the ask and runs
    again on the day of arrival (the half-open interval [A, B)), so an answer arriving the same day
    suspends nothing. An open pause counts up to ``today`` and is 0 if it starts after ``today``.

    Intervals are merged first: two staff members asking for the same document in overlapping weeks
    must not pause the clock twice.
    """
    spans: list[tuple[date, date]] = []
    for start, end in intervals:
        if end is None:
            end = max(today, start)
        elif end < start:
            raise ValueError(f"pause ends ({end}) before it starts ({start})")
        if end > start:
            spans.append((start, end))
    spans.sort()

    total = 0
    run: tuple[date, date] | None = None
    for start, end in spans:
        if run is not None and start <= run[1]:
            # Overlapping or adjacent: extend the current run instead of counting the days again.
            run = (run[0], max(run[1], end))
            continue
        if run is not None:
            total += (run[1] - run[0]).days
        run = (start, end)
    if run is not None:
        total += (run[1] - run[0]).days
    return total


def _check_paused(paused: int) -> None:
    if paused < 0:
        raise ValueError(f"paused days must not be negative, got {paused}")
