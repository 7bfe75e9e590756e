"""A scan read for the intake form, and what was read in it.

A reading starts before there is a case: staff upload the scan, a job reads it, and the intake form shows
the suggestions. When staff log the request, the scan becomes the case's attachment and the reading goes
with it (deleted with the attachment, and so with the case). A reading nobody logged is deleted, file and
all, after ``SCAN_DRAFT_HOURS`` (:func:`dsr.reading.operations.forget_unused`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from dsr.attachments.models import Attachment
from dsr.extensions import UTCDateTime, db


class ScanReading(db.Model):
    __tablename__ = "scan_readings"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    media_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    # The scan's file while the reading is a draft; once logged the attachment holds the file.
    storage_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    job_id: Mapped[int | None] = mapped_column(sa.ForeignKey("jobs.id", ondelete="SET NULL"))
    attachment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("attachments.id", ondelete="CASCADE"),
                                                      unique=True)
    language: Mapped[str | None] = mapped_column(sa.String(2))
    text: Mapped[str | None] = mapped_column(sa.Text)
    # {"pages": [{"number", "width", "height", "words": [[text, conf, left, top, width, height], ...]}],
    #  "suggestions": Reading.as_dict(), "seconds": float}
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))

    created_by = relationship("User")
    job = relationship("Job")
    attachment: Mapped[Attachment | None] = relationship(
        backref=backref("reading", uselist=False, cascade="all, delete-orphan", passive_deletes=True,
                        lazy="selectin"))

    __table_args__ = (
        sa.CheckConstraint("(storage_key IS NULL) <> (attachment_id IS NULL)", name="file_held_once"),
        sa.CheckConstraint("language IS NULL OR language IN ('nl', 'en', 'fr')", name="language"),
        sa.CheckConstraint("size > 0", name="size_positive"),
    )

    @property
    def draft(self) -> bool:
        return self.attachment_id is None

    @property
    def suggestions(self) -> dict[str, Any] | None:
        return (self.result or {}).get("suggestions")
