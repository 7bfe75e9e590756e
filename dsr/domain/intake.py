"""Rules for what may be logged as a request, shared by the intake form and the API."""

from __future__ import annotations

from datetime import date

from dsr.domain.enums import GDPR_START

GDPR_APPLIES_FROM = date(*GDPR_START)

NAME_MAX = 200
NOTES_MAX = 5000


def received_on_problem(received_on: date, today: date) -> str | None:
    """Why ``received_on`` cannot be a receipt date, or ``None``.

    The clock starts on the day the request reached an official channel (EDPB 01/2022 §159), so the
    date can be in the past (a letter stamped last week) but never in the future, and never before
    the GDPR applied.
    """
    if received_on > today:
        return "future"
    if received_on < GDPR_APPLIES_FROM:
        return "before_gdpr"
    return None
