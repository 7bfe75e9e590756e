"""The one place that reads the wall clock. Domain code and operations take ``now``/``today`` as arguments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def now() -> datetime:
    """Timezone-aware UTC now, for the edges of the system (views, CLI, jobs)."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in the organisation's time zone (a letter stamped on 1 January arrived on 1 January)."""
    tz = ZoneInfo(current_app.config.get("DSR_TIMEZONE", "Europe/Amsterdam"))
    return now().astimezone(tz).date()
