"""Attachment rows; the bytes live under ``STORAGE_DIR``, named by a random key, checked by SHA-256."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.domain.enums import AttachmentKind
from dsr.extensions import UTCDateTime, db, enum_column_type


class Attachment(db.Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    kind: Mapped[AttachmentKind] = mapped_column(enum_column_type(AttachmentKind, "attachment_kind"),
                                                 default=AttachmentKind.LETTER, server_default="letter")
    filename: Mapped[str] = mapped_column(sa.String(255))
    media_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    case: Mapped[Case] = relationship(back_populates="attachments")  # noqa: F821
    uploaded_by: Mapped[User | None] = relationship()  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("media_type IN ('application/pdf', 'image/jpeg', 'image/png')", name="media_type"),
        sa.CheckConstraint("size > 0", name="size_positive"),
    )
