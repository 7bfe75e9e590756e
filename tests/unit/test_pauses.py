"""Pausing the clock and extending it (issue 3, acceptance 3 and 4), in pure domain code.

Dates worked out by hand from the 2026 calendar: King's Day is Monday 27 April, Liberation Day Tuesday
5 May (a holiday every year under the Algemene termijnenwet, not only in lustrum years), Ascension Day
Thursday 14 May.
"""

from __future__ import annotations

from datetime import date

import pytest

from dsr.domain.calendar_nl import WorkingDayCalendar
from dsr.domain.pauses import (
    DEFAULT_ASK_WORKING_DAYS,
    ExtensionRefused,
    PauseInterval,
    ask_deadline,
    check_extension,
    closed_paused_days,
    counted_paused_days,
    pause_counts,
)


@pytest.fixture(scope="module")
def cal():
    return WorkingDayCalendar()


def test_the_default_is_five_working_days():
    assert DEFAULT_ASK_WORKING_DAYS == 5


def test_across_a_weekend_and_liberation_day(cal):
    # Received Thu 30 April. Working days after it: Fri 1 May (1), [Sat 2, Sun 3], Mon 4 (2),
    # [Tue 5 May, Liberation Day], Wed 6 (3), Thu 7 (4), Fri 8 (5).
    received = date(2026, 4, 30)
    assert ask_deadline(received, cal, 5) == date(2026, 5, 8)
    assert pause_counts(received, received, cal)
    assert pause_counts(date(2026, 5, 5), received, cal)
    assert pause_counts(date(2026, 5, 8), received, cal)
    assert not pause_counts(date(2026, 5, 9), received, cal)
    assert not pause_counts(date(2026, 5, 11), received, cal)


def test_liberation_day_is_not_counted_as_a_working_day(cal):
    # Without the Atw correction (5 May only in lustrum years) the fifth working day would be Thu 7 May.
    received = date(2026, 4, 30)
    assert pause_counts(date(2026, 5, 8), received, cal)
    assert cal.working_days_between(received, date(2026, 5, 7)) == 4


def test_across_kings_day_and_a_weekend(cal):
    # Received Fri 24 April: [Sat 25, Sun 26, Mon 27 King's Day], Tue 28 (1), Wed 29 (2), Thu 30 (3),
    # Fri 1 May (4), [Sat 2, Sun 3], Mon 4 May (5).
    received = date(2026, 4, 24)
    assert ask_deadline(received, cal, 5) == date(2026, 5, 4)
    assert pause_counts(date(2026, 5, 4), received, cal)
    assert not pause_counts(date(2026, 5, 5), received, cal)
    assert not pause_counts(date(2026, 5, 6), received, cal)


def test_the_limit_is_configurable(cal):
    received = date(2026, 4, 30)
    assert pause_counts(date(2026, 5, 4), received, cal, working_days=2)
    assert not pause_counts(date(2026, 5, 6), received, cal, working_days=2)
    assert pause_counts(date(2026, 5, 13), received, cal, working_days=8)
    # Thu 14 May is Ascension Day, so the ninth working day is Fri 15 May.
    assert ask_deadline(received, cal, 9) == date(2026, 5, 15)


def test_only_counted_pauses_move_the_clock():
    pauses = [
        PauseInterval(date(2026, 3, 6), date(2026, 3, 13), counted=True),
        PauseInterval(date(2026, 3, 20), date(2026, 3, 25), counted=False),
    ]
    assert counted_paused_days(pauses, date(2026, 4, 1)) == 7
    assert closed_paused_days(pauses) == 7


def test_an_open_pause_counts_up_to_today_but_not_in_the_stored_deadlines():
    pauses = [
        PauseInterval(date(2026, 3, 6), date(2026, 3, 13), counted=True),
        PauseInterval(date(2026, 3, 20), None, counted=True),
    ]
    assert counted_paused_days(pauses, date(2026, 3, 23)) == 7 + 3
    assert counted_paused_days(pauses, date(2026, 3, 24)) == 7 + 4
    assert closed_paused_days(pauses) == 7
    assert closed_paused_days([]) == 0


# -- extension (Art. 12(3)) ---------------------------------------------------------------------------------------

DUE = date(2026, 4, 7)


def test_extension_allowed_before_and_on_the_deadline_day():
    check_extension(today=date(2026, 3, 20), original_legal_due=DUE, already_extended=False, reason="Volume")
    check_extension(today=DUE, original_legal_due=DUE, already_extended=False, reason="Volume")


def test_extension_refused_the_day_after_the_original_deadline():
    with pytest.raises(ExtensionRefused, match="2026-04-07"):
        check_extension(today=date(2026, 4, 8), original_legal_due=DUE, already_extended=False, reason="Volume")


def test_extension_refused_when_already_extended():
    with pytest.raises(ExtensionRefused, match="already been extended"):
        check_extension(today=date(2026, 3, 20), original_legal_due=DUE, already_extended=True, reason="Volume")


@pytest.mark.parametrize("reason", ["", "   ", "\n\t", None])
def test_extension_refused_without_a_reason(reason):
    with pytest.raises(ExtensionRefused, match="needs a reason"):
        check_extension(today=date(2026, 3, 20), original_legal_due=DUE, already_extended=False, reason=reason)
