"""Audit events. The application only ever inserts them; each carries the hash of the one before.

What an event says about a person (the ``before`` and ``after`` details) lives apart from the chain, in an
:class:`AuditPayload`, and the chain covers only the payload's hash. When dsr's own retention reduces a
case file (:mod:`dsr.casefiles`), the payload is replaced by a tombstone: the chain still verifies, the
event still says who did what when, and the personal details are gone (Art. 5(1)(e)).
"""

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
    # SHA-256 of the payload (its random nonce, before and after); NULL when the event has no details.
    payload_hash: Mapped[str | None] = mapped_column(sa.String(64))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    actor: Mapped[User | None] = relationship()  # noqa: F821
    case: Mapped[Case | None] = relationship()  # noqa: F821
    payload: Mapped[AuditPayload | None] = relationship(
        foreign_keys="AuditPayload.event_id", back_populates="event", lazy="selectin", uselist=False)

    @property
    def before(self) -> dict[str, Any] | None:
        return self.payload.before if self.payload is not None else None

    @property
    def after(self) -> dict[str, Any] | None:
        return self.payload.after if self.payload is not None else None

    @property
    def purged(self) -> bool:
        """The details were removed by dsr's own retention; the event itself remains."""
        return self.payload is not None and self.payload.purged_at is not None


class AuditPayload(db.Model):
    """An event's details, hashed with a random nonce so a removed payload cannot be guessed back from its
    hash (``{"name": "Jan"}`` alone would be). A tombstone keeps only when and by which event it was purged."""

    __tablename__ = "audit_payloads"

    event_id: Mapped[int] = mapped_column(sa.ForeignKey("audit_events.id"), primary_key=True,
                                          autoincrement=False)
    nonce: Mapped[str | None] = mapped_column(sa.String(32))
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The retention event that purged it: audit-verify accepts a tombstone only with such an event.
    purged_by_event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("audit_events.id"), index=True)

    event: Mapped[AuditEvent] = relationship(foreign_keys=[event_id], back_populates="payload")

    __table_args__ = (
        sa.CheckConstraint(
            "(purged_at IS NULL) = (nonce IS NOT NULL) AND (purged_at IS NULL) = (purged_by_event_id IS NULL)",
            name="tombstone_complete"),
        sa.CheckConstraint('purged_at IS NULL OR ("before" IS NULL AND "after" IS NULL)', name="tombstone_empty"),
    )


class AuditHead(db.Model):
    """The newest link of the chain, in one row: appends lock it, so the chain never forks, and it
    records how many events there are, so removing the newest events is detected too."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_hash: Mapped[str] = mapped_column(sa.String(64))
    events: Mapped[int] = mapped_column(sa.Integer)

    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)
