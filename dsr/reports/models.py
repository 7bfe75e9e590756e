"""A record of each scheduled report run: so the auditor can read "the report was sent on ... to ...".

One row per run of a report job (``job_id`` is unique, so a retried job finds its row instead of sending
again) and at most one scheduled run per kind and day (``schedule_day`` is unique with ``kind``; a run by
hand leaves it empty), so two schedulers started by mistake do not mail the managers twice.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from dsr.extensions import UTCDateTime, db, enum_column_type


class RunOutcome(enum.StrEnum):
    SENT = "sent"
    # Weekends and Dutch public holidays: nobody reads it, and Monday's report has the same news.
    SKIPPED = "skipped"
    # Ran and computed, but sent to nobody (no privacy manager with an e-mail address); also by hand with -o.
    NOT_SENT = "not_sent"
    # Another daily run (erase-due, export expiry) started by the scheduler: the row claims its day.
    DONE = "done"


class ReportRun(db.Model):
    __tablename__ = "report_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(50), index=True)
    job_id: Mapped[int | None] = mapped_column(sa.ForeignKey("jobs.id", ondelete="SET NULL"), unique=True)
    run_on: Mapped[date] = mapped_column(sa.Date, index=True)
    schedule_day: Mapped[date | None] = mapped_column(sa.Date)
    outcome: Mapped[RunOutcome] = mapped_column(enum_column_type(RunOutcome, "report_run_outcome"))
    recipients: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("kind", "schedule_day"),
        sa.CheckConstraint("outcome <> 'sent' OR pdf_sha256 IS NOT NULL", name="sent_has_pdf"),
        sa.CheckConstraint("outcome <> 'skipped' OR note IS NOT NULL", name="skipped_has_reason"),
    )
