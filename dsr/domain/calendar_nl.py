"""Dutch working days for rolling a deadline over (Regulation 1182/71 art. 3(4), Algemene termijnenwet art. 3).

Regulation (EEC, Euratom) No 1182/71 art. 3(4) moves the end of a period that falls on a public holiday,
a Sunday or a Saturday to the next working day; art. 2(1) takes the public holidays of the Member State
concerned. For the Netherlands those are the "algemeen erkende feestdagen" of the Algemene termijnenwet
(Atw) art. 3(1): New Year's Day, Easter Monday, King's Day, 5 May, Ascension Day, Whit Monday, Christmas
Day and Boxing Day; art. 3(2) puts Good Friday on the same footing, and art. 3(3) the days the government
declares equal by decree, published every few years (the Friday after Ascension Day always is).

The ``holidays`` package is the starting point, corrected where it answers a different question:

* it lists 5 May as a *public* holiday only in lustrum years (2025, 2030, ...), following collective
  labour agreements; the Atw lists 5 May every year, so we add it every year;
* it lists Easter Sunday and Whit Sunday ("Pentecost"); the Atw does not, because they are Sundays and
  Sundays roll over anyway (Atw art. 1, Regulation 1182/71 art. 3(4)). We drop them so that this
  calendar is exactly the statutory list and a roll-over across Easter Sunday is explained as "Sunday";
* whether it has Good Friday has depended on the version (0.109 does); we add it ourselves, computed
  with ``dateutil.easter``, so that the calendar does not depend on that;
* its English names differ from the usual English legal terms ("Pentecost Monday", "Second Day of
  Christmas"); the names of the days the Atw defines by rule are ours ("Whit Monday", "Boxing Day").

What we keep from the package is King's Day (Queen's Day before 2014, 30 April) with its Sunday rule
(27 April, 26 April when the 27th is a Sunday), the one statutory day whose date history is not a rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from functools import cache

import holidays
from dateutil.easter import easter

# Atw art. 3 days defined by a fixed date or by Easter; names are the English legal terms.
_FIXED_DAYS: dict[tuple[int, int], str] = {
    (1, 1): "New Year's Day",
    (5, 5): "Liberation Day",
    (12, 25): "Christmas Day",
    (12, 26): "Boxing Day",
}
_EASTER_OFFSETS: dict[int, str] = {
    -2: "Good Friday",
    1: "Easter Monday",
    39: "Ascension Day",
    50: "Whit Monday",
}
# Sunday feasts the package lists and the Atw does not (see the module docstring).
_SUNDAY_FEAST_OFFSETS = (0, 49)

DECLARED_DAY_NAME = "Day declared equal to a public holiday"

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SATURDAY = 5


@cache
def _statutory_holidays(year: int) -> dict[date, str]:
    """The Atw art. 3 holidays of ``year``: the package's NL calendar, corrected. Computed once per year and
    process (a calendar is built per request, and the package takes milliseconds per year): callers copy."""
    easter_sunday = easter(year)
    by_rule: dict[date, str] = {}
    for (month, day), name in _FIXED_DAYS.items():
        by_rule[date(year, month, day)] = name
    for offset, name in _EASTER_OFFSETS.items():
        day_ = easter_sunday + timedelta(days=offset)
        # Ascension Day fell on 5 May in 2016 and will again; keep both names rather than lose one.
        by_rule[day_] = f"{by_rule[day_]}; {name}" if day_ in by_rule else name

    dropped = {easter_sunday + timedelta(days=offset) for offset in _SUNDAY_FEAST_OFFSETS}
    # language="en_US" so that King's Day comes out in English; the default is Dutch.
    package = holidays.country_holidays("NL", years=year, language="en_US")
    result = {day_: name for day_, name in package.items() if day_ not in dropped}
    # Where a date is defined by rule the rule's name wins: on such a date the package lists the same
    # holiday under another English name, not a second holiday.
    result.update(by_rule)
    return dict(sorted(result.items()))


class WorkingDayCalendar:
    """Saturdays, Sundays and Dutch public holidays are not working days (Regulation 1182/71 art. 3(4)).

    ``declared`` are the days the government declared equal to a public holiday (Atw art. 3(3)): editable
    data the application keeps in its database and hands in here, either as ``{date: name}`` or as plain
    dates. A declared day that is already a statutory holiday keeps its statutory name.

    Holidays are computed once per year and cached on the instance, because deadline lists and
    reports call :meth:`is_working_day` in loops. Build a new calendar when the declared days change.
    """

    def __init__(self, declared: Mapping[date, str] | Iterable[date] = ()) -> None:
        items = (
            declared.items() if isinstance(declared, Mapping) else ((d, DECLARED_DAY_NAME) for d in declared)
        )
        self._declared: dict[date, str] = {}
        for day_, name in items:
            # A datetime never compares equal to a date, so it would be silently ignored.
            if isinstance(day_, datetime) or not isinstance(day_, date):
                raise TypeError(f"declared days must be dates, got {day_!r}")
            self._declared[day_] = name or DECLARED_DAY_NAME
        self._by_year: dict[int, dict[date, str]] = {}

    @property
    def declared(self) -> tuple[tuple[date, str], ...]:
        """The declared days this calendar counts, in date order: what, besides the statute, its working days
        depend on (a cache of figures computed with it keys on them)."""
        return tuple(sorted(self._declared.items()))

    def holidays_in_year(self, year: int) -> dict[date, str]:
        """Every public holiday of ``year`` (statutory and declared), by date, in date order."""
        return dict(self._year(year))

    def holiday_name(self, d: date) -> str | None:
        """The English name of the public holiday on ``d``, or ``None`` when it is not one."""
        return self._year(d.year).get(d)

    def is_holiday(self, d: date) -> bool:
        """Whether ``d`` is a public holiday (Atw art. 3) or a day declared equal to one."""
        return d in self._year(d.year)

    def is_working_day(self, d: date) -> bool:
        """Neither Saturday nor Sunday nor a public holiday (Regulation 1182/71 art. 3(4))."""
        return d.weekday() < _SATURDAY and d not in self._year(d.year)

    def non_working_reason(self, d: date) -> str | None:
        """Why ``d`` is not a working day: the holiday's name, else "Saturday"/"Sunday"; ``None`` if it is one.

        The holiday name wins over the weekday because it is the more informative reason to show on a
        case ("Boxing Day" rather than "Saturday" on 26 December 2026).
        """
        name = self.holiday_name(d)
        if name is not None:
            return name
        if d.weekday() >= _SATURDAY:
            return _WEEKDAY_NAMES[d.weekday()]
        return None

    def next_working_day(self, d: date) -> date:
        """``d`` itself when it is a working day, else the first working day after it."""
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def add_working_days(self, d: date, n: int) -> date:
        """The date ``n`` working days after ``d`` (before it when ``n`` is negative); ``d`` is not counted.

        Like the day of receipt in Regulation 1182/71 art. 3(1), the start day is never one of the
        ``n``, so the result for ``n != 0`` is always a working day and ``n == 0`` returns ``d``.
        """
        step = timedelta(days=1 if n >= 0 else -1)
        remaining = abs(n)
        while remaining:
            d += step
            if self.is_working_day(d):
                remaining -= 1
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days lie after ``start`` up to and including ``end``; 0 when ``end <= start``.

        The inverse of :meth:`add_working_days`: ``working_days_between(d, add_working_days(d, n)) == n``
        for ``n >= 0``.
        """
        if end <= start:
            return 0
        # Counted, not walked: the queue's warnings ask it for cases unassigned for years, a day at a time
        # some 600 calls a page (issue 15, item 3). The weekdays after ``start`` up to ``end``, five a whole
        # week and the rest one by one, less the holidays among them that fall on a weekday.
        days = (end - start).days
        count = days // 7 * 5
        first = start.weekday() + 1  # the weekday of the day after start, counting on past Sunday
        count += sum(1 for i in range(days % 7) if (first + i) % 7 < _SATURDAY)
        for year in range(start.year, end.year + 1):
            count -= sum(1 for day_ in self._year(year) if start < day_ <= end and day_.weekday() < _SATURDAY)
        return count

    def _year(self, year: int) -> dict[date, str]:
        cached = self._by_year.get(year)
        if cached is None:
            cached = dict(_statutory_holidays(year))
            for day_, name in self._declared.items():
                if day_.year == year:
                    cached.setdefault(day_, name)
            self._by_year[year] = cached = dict(sorted(cached.items()))
        return cached
