"""An export: the ZIP an access or portability request is answered with, stored for a while, then deleted.

The row outlives the file. When the file expires (``EXPORT_RETENTION_DAYS`` after it was made, 30 by
default) a job deletes it and sets ``deleted_at``; the row keeps what was sent and its SHA-256, so the case
file can still show that a copy was made and prove which one. The file itself is a copy of the subject's
data, and dsr must not become one more lasting copy (Art. 5(1)(e)).

One export per job (``job_id`` is unique): a retried job finds its export and does not make a second one.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.domain.enums import Language
from dsr.extensions import UTCDateTime, db, enum_column_type


class ExportKind(enum.StrEnum):
    """Art. 15(3) copy of all the data, or Art. 20 portable data (what the subject provided)."""

    ACCESS = "access"
    PORTABILITY = "portability"


class Export(db.Model):
    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    kind: Mapped[ExportKind] = mapped_column(enum_column_type(ExportKind, "export_kind"))
    schema_version: Mapped[str] = mapped_column(sa.String(20))
    language: Mapped[Language] = mapped_column(enum_column_type(Language, "export_language"))
    # The confirmed lookup whose records were read.
    lookup_id: Mapped[int] = mapped_column(sa.ForeignKey("lookups.id"))
    # Relative to STORAGE_DIR: exports/<year>/<random>.zip. Kept after the file is deleted.
    storage_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    record_count: Mapped[int] = mapped_column(sa.Integer)
    job_id: Mapped[int] = mapped_column(sa.ForeignKey("jobs.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship()  # noqa: F821
    created_by: Mapped[User | None] = relationship()  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("size > 0", name="size_positive"),
        sa.CheckConstraint("length(sha256) = 64", name="sha256_hex"),
        sa.CheckConstraint("record_count >= 0", name="record_count_not_negative"),
        sa.CheckConstraint("expires_at > created_at", name="expires_after_created"),
        sa.CheckConstraint("deleted_at IS NULL OR deleted_at >= created_at", name="deleted_after_created"),
    )

    def available(self, now: datetime) -> bool:
        """Still stored and not past its expiry (the expiry job may not have run yet)."""
        return self.deleted_at is None and now < self.expires_at

    @property
    def filename(self) -> str:
        return f"{self.case.reference}-{self.kind.value}-{self.created_at:%Y%m%d}.zip"
