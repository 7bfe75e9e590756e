"""A fee proposed for a further copy of the data, and what the subject answered."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import UTCDateTime, db, enum_column_type


class FeeStatus(enum.StrEnum):
    WARNED = "warned"  # the subject was told the fee; the case waits
    AGREED = "agreed"  # the subject agreed to pay; the work goes on
    WITHDRAWN = "withdrawn"  # the subject did not agree and withdrew the request


class CopyFee(db.Model):
    __tablename__ = "copy_fees"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    amount_cents: Mapped[int] = mapped_column(sa.Integer)
    # Why the amount is reasonable (administrative costs), in the letter's language: the letter quotes it.
    basis: Mapped[str] = mapped_column(sa.Text)
    # The earlier copy that makes this one a further copy: its case reference and the day it was given.
    earlier_reference: Mapped[str] = mapped_column(sa.String(20))
    earlier_on: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[FeeStatus] = mapped_column(enum_column_type(FeeStatus, "fee_status"))
    pause_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case_pauses.id", ondelete="SET NULL"))
    warned_on: Mapped[date] = mapped_column(sa.Date)
    answered_on: Mapped[date | None] = mapped_column(sa.Date)
    proposed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship()  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
        sa.CheckConstraint("length(trim(basis)) > 0", name="basis_given"),
        sa.CheckConstraint("(status = 'warned') = (answered_on IS NULL)", name="answered_unless_warned"),
    )
