"""The database row of a background job: what the case page shows and what a retry re-runs.

RQ keeps its own record of a job in Redis, but only for a while and only for the queue's eyes. This row is
the lasting one: who asked for what, on which case, how far it got, how it ended, and the error text when
it failed. A retried job is the same row run again, so whatever it produced (a letter version, an export)
can be made unique per job and a retry never produces a second one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.domain.enums import JobStatus
from dsr.extensions import UTCDateTime, db, enum_column_type


class Job(db.Model):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(50), index=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    status: Mapped[JobStatus] = mapped_column(enum_column_type(JobStatus, "job_status"), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    # 0-100, with a short note ("312 of 2,000 records"), written while the job runs.
    progress: Mapped[int] = mapped_column(sa.Integer, default=0)
    progress_note: Mapped[str | None] = mapped_column(sa.String(200))
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    error: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case | None] = relationship()  # noqa: F821
    created_by: Mapped[User | None] = relationship()  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("(status = 'failed') = (error IS NOT NULL)", name="failed_has_error"),
        sa.CheckConstraint("progress >= 0 AND progress <= 100", name="progress_percent"),
        sa.CheckConstraint("status IN ('queued', 'failed') OR attempts > 0", name="ran_means_attempted"),
        sa.CheckConstraint("(status IN ('succeeded', 'failed')) = (finished_at IS NOT NULL)",
                           name="finished_when_done"),
    )

    @property
    def done(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)
