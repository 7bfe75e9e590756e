"""Holds on a case file: a legal hold or an open complaint keeps a closed case from being reduced."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import UTCDateTime, db, enum_column_type


class FileHoldKind(enum.StrEnum):
    LEGAL_HOLD = "legal_hold"  # a dispute or court case about the handling of the request
    COMPLAINT = "complaint"  # a complaint at Harmony or the Autoriteit Persoonsgegevens (Art. 77)


class CaseFileHold(db.Model):
    """Placed and released by a privacy manager, each with a reason; while placed, the file is kept whole."""

    __tablename__ = "case_file_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[FileHoldKind] = mapped_column(enum_column_type(FileHoldKind, "file_hold_kind"))
    reason: Mapped[str] = mapped_column(sa.Text)
    placed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    release_reason: Mapped[str | None] = mapped_column(sa.Text)

    case: Mapped[Case] = relationship()  # noqa: F821
    placed_by: Mapped[User | None] = relationship(foreign_keys=[placed_by_id])  # noqa: F821
    released_by: Mapped[User | None] = relationship(foreign_keys=[released_by_id])  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("length(trim(reason)) > 0", name="reason_given"),
        sa.CheckConstraint("(released_at IS NULL) = (release_reason IS NULL)", name="release_has_reason"),
    )

    @property
    def active(self) -> bool:
        return self.released_at is None
