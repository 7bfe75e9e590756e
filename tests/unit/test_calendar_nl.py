"""The Dutch working-day calendar (Algemene termijnenwet art. 3). Only dsr's calendar is asserted, never the
``holidays`` package's own list (its next release may change it): where dsr departs from the package is
shown by what dsr's calendar says."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsr.domain import calendar_nl
from dsr.domain.calendar_nl import DECLARED_DAY_NAME, WorkingDayCalendar

# The Atw art. 3(1) list plus Good Friday (art. 3(2)), in our English names.
STATUTORY_NAMES = {
    "New Year's Day",
    "Good Friday",
    "Easter Monday",
    "King's Day",
    "Liberation Day",
    "Ascension Day",
    "Whit Monday",
    "Christmas Day",
    "Boxing Day",
}

dates = st.dates(min_value=date(2018, 5, 25), max_value=date(2035, 12, 31))


@pytest.fixture(scope="module")
def cal() -> WorkingDayCalendar:
    return WorkingDayCalendar()


def test_2026_is_exactly_the_statutory_list(cal):
    assert cal.holidays_in_year(2026) == {
        date(2026, 1, 1): "New Year's Day",
        date(2026, 4, 3): "Good Friday",
        date(2026, 4, 6): "Easter Monday",
        date(2026, 4, 27): "King's Day",
        date(2026, 5, 5): "Liberation Day",
        date(2026, 5, 14): "Ascension Day",
        date(2026, 5, 25): "Whit Monday",
        date(2026, 12, 25): "Christmas Day",
        date(2026, 12, 26): "Boxing Day",
    }


@pytest.mark.parametrize("year", range(2018, 2037))
def test_every_year_has_the_statutory_days_and_nothing_else(cal, year):
    names = [part for name in cal.holidays_in_year(year).values() for part in name.split("; ")]
    assert sorted(names) == sorted(STATUTORY_NAMES)


def test_ascension_on_liberation_day_keeps_both_names(cal):
    # Easter 2016 was 27 March, so Ascension Day fell on 5 May.
    assert cal.holiday_name(date(2016, 5, 5)) == "Liberation Day; Ascension Day"


@pytest.mark.parametrize("year", [2026, 2027, 2028, 2029, 2031])
def test_liberation_day_every_year_not_only_in_lustrum_years(cal, year):
    # The Atw names 5 May every year; the holidays package has it only every fifth year. Only dsr's
    # calendar is asserted here, so the package's next release cannot break this test either way.
    may_5 = date(year, 5, 5)
    assert cal.holiday_name(may_5) == "Liberation Day"
    assert not cal.is_working_day(may_5)


@pytest.mark.parametrize("year", [2025, 2030, 2035])
def test_liberation_day_in_lustrum_years_too(cal, year):
    assert cal.holiday_name(date(year, 5, 5)) == "Liberation Day"


def test_good_friday_2026_is_a_holiday_and_does_not_depend_on_the_package(cal, monkeypatch):
    good_friday = date(2026, 4, 3)
    assert cal.holiday_name(good_friday) == "Good Friday"
    assert not cal.is_working_day(good_friday)

    # Even a package with no Dutch holidays at all leaves every day the Atw defines by rule in place;
    # only King's Day, whose date history is not a rule, comes from the package.
    monkeypatch.setattr(calendar_nl.holidays, "country_holidays", lambda *args, **kwargs: {})
    calendar_nl._statutory_holidays.cache_clear()  # computed once per year and process: again, with no package
    try:
        bare = WorkingDayCalendar().holidays_in_year(2026)
    finally:
        calendar_nl._statutory_holidays.cache_clear()
    assert bare[good_friday] == "Good Friday"
    assert set(bare.values()) == STATUTORY_NAMES - {"King's Day"}


def test_statutory_days_are_computed_once_per_year_and_declared_days_stay_with_their_calendar(monkeypatch):
    """A calendar is built per request (issue 15, item 3: creation): the package's days are worked out once
    per year and process, and one calendar's declared days never reach another through that cache."""
    calendar_nl._statutory_holidays.cache_clear()
    years, package = [], calendar_nl.holidays.country_holidays
    monkeypatch.setattr(calendar_nl.holidays, "country_holidays",
                        lambda *args, **kwargs: years.append(kwargs["years"]) or package(*args, **kwargs))
    declared = date(2031, 6, 10)  # a Tuesday
    assert not WorkingDayCalendar({declared: "Declared"}).is_working_day(declared)
    assert WorkingDayCalendar().is_working_day(declared)
    assert WorkingDayCalendar().holiday_name(date(2031, 12, 25)) == "Christmas Day"
    assert years == [2031]


def test_sunday_feasts_are_not_in_the_statutory_list(cal):
    easter_sunday, whit_sunday = date(2026, 4, 5), date(2026, 5, 24)
    assert cal.holiday_name(easter_sunday) is None
    assert cal.holiday_name(whit_sunday) is None
    # Still not working days: they are Sundays.
    assert not cal.is_working_day(easter_sunday)
    assert cal.non_working_reason(easter_sunday) == "Sunday"


def test_names_are_the_english_legal_terms(cal):
    assert cal.holiday_name(date(2026, 5, 25)) == "Whit Monday"
    assert cal.holiday_name(date(2026, 12, 26)) == "Boxing Day"


@pytest.mark.parametrize(
    ("celebrated", "name"),
    [
        (date(2026, 4, 27), "King's Day"),
        (date(2025, 4, 26), "King's Day"),  # 27 April 2025 is a Sunday
        (date(2014, 4, 26), "King's Day"),  # 27 April 2014 was a Sunday
        (date(2013, 4, 30), "Queen's Day"),
    ],
)
def test_kings_day_follows_the_sunday_rule(cal, celebrated, name):
    assert cal.holiday_name(celebrated) == name
    if name == "King's Day" and celebrated.day == 26:
        assert date(celebrated.year, 4, 27).weekday() == 6
        assert not cal.is_holiday(date(celebrated.year, 4, 27))


def test_declared_days_as_a_mapping_are_honoured():
    friday = date(2026, 5, 15)
    cal = WorkingDayCalendar({friday: "Friday after Ascension Day"})
    assert cal.holiday_name(friday) == "Friday after Ascension Day"
    assert not cal.is_working_day(friday)
    assert WorkingDayCalendar().is_working_day(friday)


def test_declared_days_as_plain_dates_get_a_generic_name():
    cal = WorkingDayCalendar([date(2027, 5, 7)])
    assert cal.holiday_name(date(2027, 5, 7)) == DECLARED_DAY_NAME
    assert date(2027, 5, 7) in cal.holidays_in_year(2027)
    assert date(2027, 5, 7) not in cal.holidays_in_year(2026)


def test_declared_day_on_a_statutory_holiday_keeps_the_statutory_name():
    cal = WorkingDayCalendar({date(2026, 12, 25): "Something else"})
    assert cal.holiday_name(date(2026, 12, 25)) == "Christmas Day"


def test_declared_datetimes_are_refused():
    with pytest.raises(TypeError):
        WorkingDayCalendar([datetime(2026, 5, 15, 0, 0)])


def test_working_days(cal):
    assert cal.is_working_day(date(2026, 4, 2))  # Thursday before Good Friday
    assert not cal.is_working_day(date(2026, 4, 4))  # Saturday
    assert not cal.is_working_day(date(2026, 1, 1))
    assert cal.non_working_reason(date(2026, 4, 2)) is None
    assert cal.non_working_reason(date(2026, 4, 4)) == "Saturday"
    # A holiday on a Saturday is explained by the holiday.
    assert cal.non_working_reason(date(2026, 12, 26)) == "Boxing Day"


def test_next_working_day(cal):
    assert cal.next_working_day(date(2026, 4, 2)) == date(2026, 4, 2)
    assert cal.next_working_day(date(2026, 4, 3)) == date(2026, 4, 7)
    assert cal.next_working_day(date(2025, 12, 25)) == date(2025, 12, 29)


def test_add_working_days(cal):
    assert cal.add_working_days(date(2026, 4, 2), 0) == date(2026, 4, 2)
    assert cal.add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)
    assert cal.add_working_days(date(2026, 4, 2), 3) == date(2026, 4, 9)
    assert cal.add_working_days(date(2026, 4, 7), -1) == date(2026, 4, 2)
    assert cal.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 28)


def test_working_days_between(cal):
    assert cal.working_days_between(date(2026, 4, 2), date(2026, 4, 7)) == 1
    assert cal.working_days_between(date(2026, 4, 2), date(2026, 4, 2)) == 0
    assert cal.working_days_between(date(2026, 4, 7), date(2026, 4, 2)) == 0
    # Whole of April 2026: 22 weekdays minus Good Friday, Easter Monday and King's Day.
    assert cal.working_days_between(date(2026, 3, 31), date(2026, 4, 30)) == 19


def test_holidays_in_year_is_a_copy(cal):
    cal.holidays_in_year(2026).clear()
    assert cal.is_holiday(date(2026, 1, 1))


def test_each_year_is_computed_once(monkeypatch):
    calls: list[int] = []
    real = calendar_nl.holidays.country_holidays

    def counting(*args, **kwargs):
        calls.append(kwargs["years"])
        return real(*args, **kwargs)

    monkeypatch.setattr(calendar_nl.holidays, "country_holidays", counting)
    calendar_nl._statutory_holidays.cache_clear()
    cal = WorkingDayCalendar()
    day = date(2026, 1, 1)
    for _ in range(400):
        cal.is_working_day(day)
        day += timedelta(days=1)
    assert calls == [2026, 2027]


@given(dates, st.integers(min_value=-60, max_value=60))
def test_add_and_count_working_days_are_inverse(d, n):
    cal = WorkingDayCalendar()
    moved = cal.add_working_days(d, n)
    if n == 0:
        assert moved == d
    else:
        assert cal.is_working_day(moved)
    if n >= 0:
        assert cal.working_days_between(d, moved) == n
    else:
        # Counting forward from ``moved`` finds the -n - 1 working days in between, then ``d`` itself.
        assert cal.working_days_between(moved, d) == -n - 1 + cal.is_working_day(d)


@given(dates)
def test_next_working_day_skips_only_non_working_days(d):
    cal = WorkingDayCalendar()
    nxt = cal.next_working_day(d)
    assert cal.is_working_day(nxt)
    assert all(not cal.is_working_day(d + timedelta(days=i)) for i in range((nxt - d).days))


def test_working_days_between_counts_as_a_walk_day_by_day_would():
    """The count is computed from whole weeks and the holidays among them (issue 15, item 3): it must equal
    walking the days one by one, over year ends, declared days (one on a Saturday) and empty ranges."""
    import random

    calendar = WorkingDayCalendar({date(2025, 5, 6): "declared", date(2026, 6, 13): "on a Saturday"})

    def walked(start: date, end: date) -> int:
        count, day_ = 0, start + timedelta(days=1)
        while day_ <= end:
            count += calendar.is_working_day(day_)
            day_ += timedelta(days=1)
        return count

    pick = random.Random(15)
    for _ in range(3000):
        start = date(2019, 1, 1) + timedelta(days=pick.randrange(3000))
        end = start + timedelta(days=pick.randrange(-20, 900))
        assert calendar.working_days_between(start, end) == walked(start, end), (start, end)
