"""The one place that reads the wall clock. Domain code and operations take ``now``/``today`` as arguments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app


def now() -> datetime:
    """Timezone-aware UTC now, for the edges of the system (views, CLI, jobs)."""
    return datetime.now(UTC)


def local_date(moment: datetime) -> date:
    """The calendar date of ``moment`` in the organisation's time zone (``DSR_TIMEZONE``)."""
    return moment.astimezone(ZoneInfo(current_app.config.get("DSR_TIMEZONE", "Europe/Amsterdam"))).date()


def local_midnight(day: date) -> datetime:
    """The moment (in UTC) at which ``day`` begins in the organisation's time zone: ``local_date`` of a moment
    is ``day`` exactly when it falls from this one to the next day's."""
    zone = ZoneInfo(current_app.config.get("DSR_TIMEZONE", "Europe/Amsterdam"))
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def today() -> date:
    """Today's date in the organisation's time zone (a letter stamped on 1 January arrived on 1 January)."""
    return local_date(now())


# -- dates and times on screen --------------------------------------------------------------------------
# One format per kind, in the interface's language (issue 16, item 9): a date is "6 Dec 2026" ("6 dec 2026",
# "6 déc. 2026"), a deadline or today with its weekday, a moment is its date and time ("6 Dec 2026, 13:40",
# local time). Never the ambiguous numeric "05/01/2027" nor a raw ISO date. Templates use the filters |day and
# |moment (dsr/web.py); Python code that puts a date in a message uses format_day and format_moment.
# The interface's languages and the locale each is shown in (English in its British form: "6 Dec 2026").
UI_LOCALES = {"en": "en_GB", "nl": "nl", "fr": "fr"}


def interface_language() -> str:
    """The interface's language as the data map and the statement key their names: "nl", "fr" or "en"."""
    from flask_babel import get_locale

    language = str(get_locale() or "en")[:2]
    return language if language in ("nl", "fr") else "en"


DAY_KINDS = {"medium": "medium", "long": "long", "full": "full", "weekday": "full", "month": "LLLL y"}


def format_day(value: date | datetime | str | None, kind: str = "medium") -> str:
    """A calendar date in the interface's language: ``medium`` "6 Dec 2026" (the default), ``long``
    "6 December 2026" (in a sentence), ``weekday`` (or ``full``) "Sunday, 6 December 2026" (deadlines, today),
    ``month`` "December 2026"; any other pattern gives the default. A datetime is shown as its local calendar
    date; "" for nothing."""
    from flask_babel import get_locale

    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = local_date(value if value.tzinfo else value.replace(tzinfo=UTC))
    # Any other pattern ("short", "dd-MM-y") is not a kind of its own: the date is shown as dates are.
    return _formatted_day(value, DAY_KINDS.get(kind, "medium"), get_locale())


@lru_cache(maxsize=4096)
def _formatted_day(value: date, pattern: str, locale) -> str:
    """A queue page shows some 80 dates, a few dozen distinct ones: each is formatted once per process and
    language (Babel's formatting takes tens of microseconds a date). A date has no time zone to rebase."""
    from babel.dates import format_date

    return format_date(value, pattern, locale=locale)


def format_moment(value: datetime | None) -> str:
    """A moment in the interface's language and the organisation's time zone: its date as :func:`format_day`
    shows it and the time of day to the minute ("6 Dec 2026, 13:40"); "" for nothing."""
    from flask_babel import get_locale, get_timezone

    if value is None:
        return ""
    return _formatted_moment(value if value.tzinfo else value.replace(tzinfo=UTC), get_locale(), get_timezone())


def moment_formatter() -> Callable[[datetime | None], str]:
    """:func:`format_moment` bound to the interface's language and time zone as they are now, for a page that
    shows many moments: the case page's history asked Flask-Babel for both again for each of its fifty
    events (issue 15, item 3). Made inside ``force_locale``, it keeps that locale."""
    from flask_babel import get_locale, get_timezone

    locale, tzinfo = get_locale(), get_timezone()

    def formatted(value: datetime | None) -> str:
        if value is None:
            return ""
        return _formatted_moment(value if value.tzinfo else value.replace(tzinfo=UTC), locale, tzinfo)

    return formatted


@lru_cache(maxsize=8192)
def _formatted_moment(value: datetime, locale, tzinfo) -> str:
    """A case page shows some hundred moments (its history): each is formatted once per process, language and
    time zone, so a page seen again does not format them again (Babel takes tens of microseconds a moment)."""
    from babel.dates import format_datetime

    return format_datetime(value, _moment_pattern(locale), tzinfo=tzinfo, locale=locale)


@lru_cache(maxsize=16)
def _moment_pattern(locale) -> str:
    return (str(locale.datetime_formats["medium"]).replace("{1}", locale.date_formats["medium"].pattern)
            .replace("{0}", "HH:mm"))
