"""Audit events. The application only ever inserts them; each carries the hash of the one before."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import UTCDateTime, db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # Kept as text too, so the trail still reads correctly if the user is renamed.
    actor_label: Mapped[str] = mapped_column(sa.String(254))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    actor: Mapped[User | None] = relationship()  # noqa: F821
    case: Mapped[Case | None] = relationship()  # noqa: F821


class AuditHead(db.Model):
    """The newest link of the chain, in one row: appends lock it, so the chain never forks, and it
    records how many events there are, so removing the newest events is detected too."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_hash: Mapped[str] = mapped_column(sa.String(64))
    events: Mapped[int] = mapped_column(sa.Integer)

    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)
