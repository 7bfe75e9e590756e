"""The notices owed to the recipients of a subject's data (Art. 19), one row per recipient and case.

A :class:`RecipientNotice` is one recipient of the privacy statement (``statement.yml``) that received the
subject's data, ticked as notified (when, how) or recorded as not notifiable with the reason. The notices
belong to the case, not to a right: a rectification, an erasure and a restriction case owe them alike.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import UTCDateTime, db, enum_column_type


class NoticeStatus(enum.StrEnum):
    PENDING = "pending"
    NOTIFIED = "notified"
    NOT_NOTIFIABLE = "not_notifiable"  # Art. 19: impossible or involving disproportionate effort


class NoticeMethod(enum.StrEnum):
    """How a recipient was told."""

    EMAIL = "email"
    POST = "post"
    PHONE = "phone"
    PORTAL = "portal"  # the recipient's own portal or an interface to its system
    OTHER = "other"


class RecipientNotice(db.Model):
    """Art. 19 for one recipient of the statement on one case: notified (date, how), not notifiable
    (why), or still pending. Listed from the statement's recipients relevant to the subject's records."""

    __tablename__ = "recipient_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[str] = mapped_column(sa.String(100))
    # The recipient by the name a record gave it (the risk bearer "Maasstad Schadeverzekeringen N.V."), one
    # notice per name; empty when the statement's recipient is listed as such (issue 13, item 7).
    named: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    status: Mapped[NoticeStatus] = mapped_column(enum_column_type(NoticeStatus, "notice_status"))
    listed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    listed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    notified_on: Mapped[date | None] = mapped_column(sa.Date)
    method: Mapped[NoticeMethod | None] = mapped_column(enum_column_type(NoticeMethod, "notice_method"))
    note: Mapped[str | None] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    case: Mapped[Case] = relationship()  # noqa: F821
    listed_by: Mapped[User | None] = relationship(foreign_keys=[listed_by_id])  # noqa: F821
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])  # noqa: F821

    __table_args__ = (
        sa.UniqueConstraint("case_id", "recipient_id", "named"),
        sa.CheckConstraint("(decided_at IS NULL) = (status = 'pending')", name="decided_unless_pending"),
        # Notified: on a date, in a way; not notifiable: for a reason; the one or the other, never both.
        sa.CheckConstraint("(status = 'notified') = (notified_on IS NOT NULL AND method IS NOT NULL)",
                           name="notified_complete"),
        sa.CheckConstraint("(status = 'not_notifiable') = (reason IS NOT NULL AND length(trim(reason)) > 0)",
                           name="not_notifiable_has_reason"),
    )

    @property
    def is_pending(self) -> bool:
        return self.status is NoticeStatus.PENDING

    def label(self, recipient_name: str) -> str:
        """The statement's name of the recipient, with the name the record gave it: "Risk bearer: Maasstad"."""
        return f"{recipient_name}: {self.named}" if self.named else recipient_name
