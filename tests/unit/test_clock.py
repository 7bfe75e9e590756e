"""The SLA clock: promise, legal and extended deadlines (GDPR Art. 12(3), Regulation 1182/71 art. 3), pauses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsr.domain.calendar_nl import WorkingDayCalendar
from dsr.domain.clock import (
    DUE_SOON_DAYS,
    PROMISE_DAYS,
    Deadline,
    DeadlineStatus,
    ExtensionRule,
    days_left,
    deadline_status,
    extended_due_on,
    legal_deadline,
    legal_due_on,
    paused_days,
    promise_answer_by,
    promised_on,
)

CAL = WorkingDayCalendar()
FIRST, LAST = date(2018, 5, 25), date(2035, 12, 31)
dates = st.dates(min_value=FIRST, max_value=LAST)


def longest_non_working_run(cal: WorkingDayCalendar, first: date, last: date) -> int:
    """The longest stretch of consecutive non-working days between ``first`` and ``last``."""
    longest = run = 0
    day = first
    while day <= last:
        run = 0 if cal.is_working_day(day) else run + 1
        longest = max(longest, run)
        day += timedelta(days=1)
    return longest


# Every deadline of a request received in the tested range ends before 2037, pauses included.
LONGEST_RUN = longest_non_working_run(CAL, FIRST, date(2036, 12, 31))


def test_longest_run_is_at_least_the_easter_weekend():
    # Good Friday to Easter Monday is four days every year; the computed bound cannot be below that.
    assert LONGEST_RUN >= 4


# --- the examples of DESIGN.md and the EDPB ---------------------------------------------------------


def test_5_march_2026_rolls_over_easter():
    deadline = legal_deadline(date(2026, 3, 5), CAL)
    assert deadline == Deadline(
        due_on=date(2026, 4, 7),
        period_end=date(2026, 4, 5),
        paused_days=0,
        before_roll=date(2026, 4, 5),
        rolled_over=((date(2026, 4, 5), "Sunday"), (date(2026, 4, 6), "Easter Monday")),
        months=1,
    )


def test_31_august_ends_on_30_september():
    deadline = legal_deadline(date(2026, 8, 31), CAL)
    assert deadline.due_on == date(2026, 9, 30)
    assert deadline.rolled_over == ()


def test_31_january_ends_at_the_end_of_february_then_rolls_over_the_weekend():
    deadline = legal_deadline(date(2026, 1, 31), CAL)
    assert deadline.period_end == date(2026, 2, 28)
    assert deadline.rolled_over == ((date(2026, 2, 28), "Saturday"), (date(2026, 3, 1), "Sunday"))
    assert deadline.due_on == date(2026, 3, 2)


def test_31_january_in_a_leap_year_ends_on_29_february():
    assert legal_deadline(date(2028, 1, 31), CAL).period_end == date(2028, 2, 29)


def test_promise_is_a_plain_four_weeks():
    assert PROMISE_DAYS == 28
    assert promised_on(date(2026, 3, 5)) == date(2026, 4, 2)
    # No roll-over, even onto a Sunday.
    assert promised_on(date(2026, 3, 8)) == date(2026, 4, 5)


def test_extended_5_march_2026_is_friday_5_june():
    deadline = legal_deadline(date(2026, 3, 5), CAL, months=3)
    assert deadline.due_on == date(2026, 6, 5)
    assert deadline.due_on.weekday() == 4
    assert deadline.rolled_over == ()
    assert extended_due_on(date(2026, 3, 5), CAL) == date(2026, 6, 5)


def test_extended_30_november_2026_ends_on_sunday_28_february_then_rolls():
    deadline = legal_deadline(date(2026, 11, 30), CAL, months=3)
    assert deadline.period_end == date(2027, 2, 28)
    assert deadline.rolled_over == ((date(2027, 2, 28), "Sunday"),)
    assert extended_due_on(date(2026, 11, 30), CAL) == date(2027, 3, 1)


def test_extended_31_january_2025_is_the_end_of_the_first_month_plus_two_months_by_default():
    """LEGAL.md T4: received 31 January 2025, the first month ends 28 February, two further months 28 April
    (a Monday), earlier than receipt + 3 months (Wednesday 30 April). The other reading is a setting."""
    assert extended_due_on(date(2025, 1, 31), CAL) == date(2025, 4, 28)
    assert extended_due_on(date(2025, 1, 31), CAL, rule=ExtensionRule.EARLIER) == date(2025, 4, 28)
    assert extended_due_on(date(2025, 1, 31), CAL, rule=ExtensionRule.THREE_MONTHS) == date(2025, 4, 30)
    # Where the first month is not cut short the two readings agree.
    assert extended_due_on(date(2026, 3, 5), CAL, rule=ExtensionRule.THREE_MONTHS) == date(2026, 6, 5)
    # Pauses move the earlier end by their days, as they move the one-month deadline.
    assert extended_due_on(date(2025, 1, 31), CAL, paused_days=2) == date(2025, 4, 30)


@given(dates)
def test_the_earlier_reading_is_never_later_than_three_months(received):
    earlier = legal_deadline(received, CAL, months=3, rule=ExtensionRule.EARLIER)
    three = legal_deadline(received, CAL, months=3, rule=ExtensionRule.THREE_MONTHS)
    assert earlier.period_end <= three.period_end
    assert earlier.due_on <= three.due_on
    assert CAL.is_working_day(earlier.due_on)


def test_the_promise_is_stated_as_the_last_working_day_on_or_before_it():
    # Received 31 January 2026: + 28 days is Saturday 28 February, so the answer goes out by Friday 27.
    assert promise_answer_by(promised_on(date(2026, 1, 31)), CAL) == date(2026, 2, 27)
    # + 28 days is Easter Sunday 5 April 2026; Good Friday 3 April is a holiday too: Thursday 2 April.
    assert promise_answer_by(promised_on(date(2026, 3, 8)), CAL) == date(2026, 4, 2)
    # A working day stays itself.
    assert promise_answer_by(date(2026, 4, 7), CAL) == date(2026, 4, 7)
    # A declared day (Atw art. 3(3)) is not a working day either: Friday 15 May 2026, after Ascension Day.
    declared = WorkingDayCalendar({date(2026, 5, 15): "Friday after Ascension Day"})
    assert promise_answer_by(date(2026, 5, 15), declared) == date(2026, 5, 13)
    assert promise_answer_by(date(2026, 5, 15), CAL) == date(2026, 5, 15)


@given(dates, st.integers(min_value=0, max_value=60))
def test_the_promise_answer_date_is_a_working_day_never_after_the_promise(received, paused):
    promise = promised_on(received, paused)
    answer_by = promise_answer_by(promise, CAL)
    assert CAL.is_working_day(answer_by)
    assert answer_by <= promise
    assert all(not CAL.is_working_day(answer_by + timedelta(days=n)) for n in range(1, (promise - answer_by).days + 1))


def test_extension_counts_from_receipt_not_from_the_rolled_first_deadline():
    # The first month rolls from 5 to 7 April; the extension still ends on 5 June, not 7 June.
    assert legal_due_on(date(2026, 3, 5), CAL) == date(2026, 4, 7)
    assert extended_due_on(date(2026, 3, 5), CAL) == date(2026, 6, 5)


@pytest.mark.parametrize(
    ("received_on", "due_on", "reasons"),
    [
        # King's Day 2026 is Monday 27 April.
        (date(2026, 3, 27), date(2026, 4, 28), ["King's Day"]),
        # 5 May 2026, not a lustrum year: the package would not roll this over.
        (date(2026, 4, 5), date(2026, 5, 6), ["Liberation Day"]),
        # 5 May 2027 is a Wednesday and Ascension Day the Thursday after it.
        (date(2027, 4, 5), date(2027, 5, 7), ["Liberation Day", "Ascension Day"]),
        # Good Friday through Easter Monday.
        (date(2026, 3, 3), date(2026, 4, 7), ["Good Friday", "Saturday", "Sunday", "Easter Monday"]),
        # Christmas on a Thursday: Christmas, Boxing Day and a weekend.
        (date(2025, 11, 25), date(2025, 12, 29), ["Christmas Day", "Boxing Day", "Saturday", "Sunday"]),
        # Christmas on a Friday, Boxing Day on the Saturday.
        (date(2026, 11, 25), date(2026, 12, 28), ["Christmas Day", "Boxing Day", "Sunday"]),
        # Whit Monday 2026.
        (date(2026, 4, 25), date(2026, 5, 26), ["Whit Monday"]),
        # New Year's Day 2027 is a Friday.
        (date(2026, 12, 1), date(2027, 1, 4), ["New Year's Day", "Saturday", "Sunday"]),
    ],
)
def test_roll_over_on_holidays(received_on, due_on, reasons):
    deadline = legal_deadline(received_on, CAL)
    assert deadline.due_on == due_on
    assert [reason for _, reason in deadline.rolled_over] == reasons


def test_a_declared_day_moves_the_deadline():
    declared = WorkingDayCalendar({date(2027, 5, 7): "Friday after Ascension Day"})
    deadline = legal_deadline(date(2027, 4, 5), declared)
    assert deadline.due_on == date(2027, 5, 10)
    assert deadline.rolled_over[-3:] == (
        (date(2027, 5, 7), "Friday after Ascension Day"),
        (date(2027, 5, 8), "Saturday"),
        (date(2027, 5, 9), "Sunday"),
    )


def test_invalid_arguments():
    with pytest.raises(ValueError):
        legal_deadline(date(2026, 3, 5), CAL, months=0)
    with pytest.raises(ValueError):
        legal_deadline(date(2026, 3, 5), CAL, paused_days=-1)
    with pytest.raises(ValueError):
        promised_on(date(2026, 3, 5), paused_days=-1)
    with pytest.raises(ValueError):
        deadline_status(date(2026, 3, 5), date(2026, 3, 1), soon_days=-1)


# --- pauses -----------------------------------------------------------------------------------------


def test_paused_days_move_both_deadlines():
    received = date(2026, 3, 5)
    assert promised_on(received, paused_days=10) == date(2026, 4, 12)
    deadline = legal_deadline(received, CAL, paused_days=10)
    assert (deadline.period_end, deadline.before_roll, deadline.due_on) == (
        date(2026, 4, 5),
        date(2026, 4, 15),
        date(2026, 4, 15),
    )
    assert legal_due_on(received, CAL, paused_days=10) == date(2026, 4, 15)
    assert extended_due_on(received, CAL, paused_days=10) == date(2026, 6, 15)


def test_a_pause_can_push_the_deadline_onto_a_holiday():
    deadline = legal_deadline(date(2026, 3, 5), CAL, paused_days=22)
    assert deadline.before_roll == date(2026, 4, 27)
    assert deadline.rolled_over == ((date(2026, 4, 27), "King's Day"),)
    assert deadline.due_on == date(2026, 4, 28)


@pytest.mark.parametrize(
    ("intervals", "today", "expected"),
    [
        ([], date(2026, 3, 30), 0),
        ([(date(2026, 3, 10), date(2026, 3, 20))], date(2026, 3, 30), 10),
        # The information arrived the day it was asked for: the clock never stopped.
        ([(date(2026, 3, 10), date(2026, 3, 10))], date(2026, 3, 30), 0),
        # Overlap is counted once: 10 to 25 March.
        (
            [(date(2026, 3, 10), date(2026, 3, 20)), (date(2026, 3, 15), date(2026, 3, 25))],
            date(2026, 3, 30),
            15,
        ),
        # One pause inside another.
        (
            [(date(2026, 3, 10), date(2026, 3, 20)), (date(2026, 3, 12), date(2026, 3, 14))],
            date(2026, 3, 30),
            10,
        ),
        # Back to back: the day of arrival of the first is the day of the second ask.
        ([(date(2026, 3, 1), date(2026, 3, 5)), (date(2026, 3, 5), date(2026, 3, 8))], date(2026, 3, 30), 7),
        # Disjoint, given out of order.
        (
            [(date(2026, 3, 20), date(2026, 3, 22)), (date(2026, 3, 1), date(2026, 3, 4))],
            date(2026, 3, 30),
            5,
        ),
        # Still waiting: counted up to today.
        ([(date(2026, 3, 10), None)], date(2026, 3, 17), 7),
        # An open pause overlapping a closed one.
        ([(date(2026, 3, 10), date(2026, 3, 20)), (date(2026, 3, 18), None)], date(2026, 3, 22), 12),
        # An open pause asked for after ``today`` has not started yet.
        ([(date(2026, 3, 10), None)], date(2026, 3, 5), 0),
    ],
)
def test_paused_days(intervals, today, expected):
    assert paused_days(intervals, today) == expected


def test_a_pause_cannot_end_before_it_starts():
    with pytest.raises(ValueError):
        paused_days([(date(2026, 3, 10), date(2026, 3, 9))], date(2026, 3, 30))


pause_intervals = st.lists(
    st.tuples(
        st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 3, 31)),
        st.one_of(st.none(), st.integers(min_value=0, max_value=40)),
    ),
    max_size=6,
)


@given(pause_intervals, st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 5, 31)))
def test_paused_days_is_the_size_of_the_union(raw, today):
    intervals = [(start, None if length is None else start + timedelta(days=length)) for start, length in raw]
    suspended: set[date] = set()
    for start, end in intervals:
        stop = end if end is not None else max(start, today)
        suspended.update(start + timedelta(days=i) for i in range((stop - start).days))
    assert paused_days(intervals, today) == len(suspended)


# --- days left and status ----------------------------------------------------------------------------


def test_days_left():
    assert days_left(date(2026, 4, 7), date(2026, 4, 1)) == 6
    assert days_left(date(2026, 4, 7), date(2026, 4, 7)) == 0
    assert days_left(date(2026, 4, 7), date(2026, 4, 9)) == -2


def test_deadline_status():
    due = date(2026, 4, 7)
    assert DUE_SOON_DAYS == 7
    assert deadline_status(due, date(2026, 3, 30)) is DeadlineStatus.ON_TRACK
    assert deadline_status(due, date(2026, 3, 31)) is DeadlineStatus.DUE_SOON
    assert deadline_status(due, due) is DeadlineStatus.DUE_SOON
    assert deadline_status(due, date(2026, 4, 8)) is DeadlineStatus.OVERDUE
    assert deadline_status(due, date(2026, 4, 6), soon_days=0) is DeadlineStatus.ON_TRACK
    assert DeadlineStatus.OVERDUE == "overdue"


# --- properties ---------------------------------------------------------------------------------------


@given(dates)
def test_legal_deadline_bounds(received_on):
    deadline = legal_deadline(received_on, CAL)
    assert CAL.is_working_day(deadline.due_on)
    assert deadline.due_on >= received_on + timedelta(days=28)
    assert deadline.due_on <= received_on + timedelta(days=31 + LONGEST_RUN)


@given(dates, st.integers(min_value=0, max_value=120))
def test_deadline_is_explained_by_its_parts(received_on, paused):
    for months in (1, 3):
        deadline = legal_deadline(received_on, CAL, paused_days=paused, months=months)
        assert deadline.before_roll == deadline.period_end + timedelta(days=paused)
        skipped = [day for day, _ in deadline.rolled_over]
        assert skipped == [deadline.before_roll + timedelta(days=i) for i in range(len(skipped))]
        assert all(not CAL.is_working_day(day) for day in skipped)
        assert deadline.due_on == deadline.before_roll + timedelta(days=len(skipped))
        assert CAL.is_working_day(deadline.due_on)
        assert len(skipped) <= LONGEST_RUN


@given(dates)
def test_extended_deadline_bounds(received_on):
    due_on = extended_due_on(received_on, CAL)
    assert CAL.is_working_day(due_on)
    # The earlier of receipt + 3 months and the end of the first month + 2 months (issue 14.7): a request of
    # 31 January in a common year ends its first month on 28 February, so the extension may end on 28 April,
    # 87 days after receipt.
    assert due_on >= received_on + timedelta(days=87)
    assert due_on <= received_on + timedelta(days=92 + LONGEST_RUN)
    assert due_on > legal_due_on(received_on, CAL)


@given(dates, st.integers(min_value=1, max_value=120))
def test_pauses_never_bring_a_deadline_forward(received_on, paused):
    assert legal_due_on(received_on, CAL, paused) >= legal_due_on(received_on, CAL)
    assert extended_due_on(received_on, CAL, paused) >= extended_due_on(received_on, CAL)
    assert legal_due_on(received_on, CAL, paused) <= legal_due_on(received_on, CAL) + timedelta(
        days=paused + LONGEST_RUN
    )
    assert promised_on(received_on, paused) == promised_on(received_on) + timedelta(days=paused)


STATUS_ORDER = [DeadlineStatus.ON_TRACK, DeadlineStatus.DUE_SOON, DeadlineStatus.OVERDUE]


@given(dates, dates, dates, st.integers(min_value=0, max_value=30))
def test_deadline_status_is_monotone_in_today(due_on, day_a, day_b, soon_days):
    earlier, later = sorted((day_a, day_b))
    before = STATUS_ORDER.index(deadline_status(due_on, earlier, soon_days))
    after = STATUS_ORDER.index(deadline_status(due_on, later, soon_days))
    assert before <= after
