"""Pausing the clock while the controller waits for information (EDPB Guidelines 01/2022 §159).

The pause is not in Art. 12(3) itself (LEGAL.md T5, *open*): it counts only when the information was
asked for without undue delay, which dsr takes as within a configurable number of working days of
receipt. A later ask is flagged, and the clock keeps running.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from dsr.domain import clock
from dsr.domain.calendar_nl import WorkingDayCalendar

DEFAULT_ASK_WORKING_DAYS = 5


@dataclass(frozen=True)
class PauseInterval:
    requested_on: date
    resumed_on: date | None
    counted: bool


def ask_deadline(received_on: date, calendar: WorkingDayCalendar, working_days: int) -> date:
    """The last day on which asking for information still pauses the clock."""
    return calendar.add_working_days(received_on, working_days)


def pause_counts(requested_on: date, received_on: date, calendar: WorkingDayCalendar,
                 working_days: int = DEFAULT_ASK_WORKING_DAYS) -> bool:
    """Whether a request for information sent on ``requested_on`` suspends the clock (asked in time)."""
    return requested_on <= ask_deadline(received_on, calendar, working_days)


def counted_paused_days(pauses: Iterable[PauseInterval], today: date) -> int:
    """Days the clock stood still: counted pauses only; an open pause counts up to ``today``."""
    return clock.paused_days(((p.requested_on, p.resumed_on) for p in pauses if p.counted), today)


def closed_paused_days(pauses: Iterable[PauseInterval]) -> int:
    """Days of counted pauses that have ended (what the stored deadlines include)."""
    closed = [(p.requested_on, p.resumed_on) for p in pauses if p.counted and p.resumed_on is not None]
    if not closed:
        return 0
    return clock.paused_days(closed, max(end for _s, end in closed))


class ExtensionRefused(Exception):
    """Art. 12(3) does not allow this extension; ``code`` says which rule, the message says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def check_extension(*, today: date, original_legal_due: date, already_extended: bool, reason: str) -> None:
    """An extension by two further months (Art. 12(3)): once, with a reason, before the original deadline.

    The subject must be told, with the reasons, within the first month: on the deadline day itself the
    notice can still go out; once that day has passed, an extension comes too late.
    """
    if already_extended:
        raise ExtensionRefused("already_extended", "This case has already been extended; Art. 12(3) allows one extension "
                               "of two further months.")
    if not reason or not reason.strip():
        raise ExtensionRefused("no_reason", "An extension needs a reason (the complexity or number of the requests).")
    if today > original_legal_due:
        raise ExtensionRefused(
            "too_late", f"Too late to extend: the original legal deadline was {original_legal_due.isoformat()}; the subject "
            "must be told of an extension before it passes (Art. 12(3)).")
