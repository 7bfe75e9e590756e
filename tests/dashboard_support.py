"""The dashboard's monthly figures computed afresh from dsr's own pieces, as the tests check the kept ones
against: the answered cases of the whole window, and the twelve months' figures of a list of them."""

from __future__ import annotations

from datetime import date

from dsr.reports.dashboard import (
    MONTHS,
    Answered,
    MonthStats,
    answered_between,
    month_bounds,
    month_figures,
    month_starts,
)


def answered_cases(today: date, months: int = MONTHS) -> list[Answered]:
    """The cases answered in the last ``months`` months of ``today`` (the organisation's months)."""
    bounds = month_bounds(month_starts(today, months))
    return answered_between(bounds[0], bounds[-1])


def monthly(answered: list[Answered], today: date, months: int = MONTHS) -> list[MonthStats]:
    """Each of the last ``months`` months' figures of the ``answered`` cases answered in it, oldest first."""
    starts = month_starts(today, months)
    buckets: dict[date, list[Answered]] = {start: [] for start in starts}
    for a in answered:
        bucket = buckets.get(a.answered_on.replace(day=1))
        if bucket is not None:
            bucket.append(a)
    return [month_figures(start, buckets[start]) for start in starts]
