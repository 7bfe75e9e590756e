"""The one place that reads the wall clock. Domain code and operations take ``now``/``today`` as arguments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def now() -> datetime:
    """Timezone-aware UTC now, for the edges of the system (views, CLI, jobs)."""
    return datetime.now(UTC)


def local_date(moment: datetime) -> date:
    """The calendar date of ``moment`` in the organisation's time zone (``DSR_TIMEZONE``)."""
    return moment.astimezone(ZoneInfo(current_app.config.get("DSR_TIMEZONE", "Europe/Amsterdam"))).date()


def today() -> date:
    """Today's date in the organisation's time zone (a letter stamped on 1 January arrived on 1 January)."""
    return local_date(now())
