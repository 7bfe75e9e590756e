"""dsr's own retention: when a closed case file is reduced, and what keeps it (Art. 5(1)(e), 5(2)).

A case file holds personal data of its own: the subject's details, notes, letters, ID-check records, audit
details. Accountability needs them for a while after the case closes (a complaint to the Autoriteit
Persoonsgegevens, a petition to the court, a question from the subject); after that only the bare facts
remain: reference, rights, dates, outcome and the audit events without their details.

Pure: dates and facts in, a decision out; no Flask, no SQLAlchemy.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

DEFAULT_YEARS = 2


class KeptBy(enum.StrEnum):
    """Why a case file past its period is not reduced yet."""

    FILE_HOLD = "file_hold"  # a legal hold on the case file itself (a dispute, a court case)
    COMPLAINT = "complaint"  # an open complaint about the case (at Harmony or the Autoriteit Persoonsgegevens)
    RECORD_HOLD = "record_hold"  # a legal hold on the subject's data placed from this case (Art. 17(3)(e))
    SCHEDULED_ERASURE = "scheduled_erasure"  # kept records the erase-due job still has to erase
    RESTRICTION = "restriction"  # records restricted from this case (Art. 18): the file says where to lift


@dataclass(frozen=True)
class FileDecision:
    due_on: date
    due: bool  # the period has passed and nothing keeps the file: reduce it
    kept_by: tuple[KeptBy, ...] = ()


def reduction_due_on(closed_on: date, years: int = DEFAULT_YEARS) -> date:
    """The day a file closed on ``closed_on`` may be reduced: ``years`` after closure (29 February → 28th)."""
    if years < 0:
        raise ValueError("a retention period cannot be negative")
    return closed_on + relativedelta(years=years)


def decide(closed_on: date, today: date, *, years: int = DEFAULT_YEARS,
           kept_by: tuple[KeptBy, ...] | list[KeptBy] = ()) -> FileDecision:
    """Reduce on or after the due day, unless something keeps the file (every reason is reported)."""
    due_on = reduction_due_on(closed_on, years)
    keepers = tuple(sorted(set(kept_by), key=list(KeptBy).index))
    return FileDecision(due_on=due_on, due=today >= due_on and not keepers, kept_by=keepers)
