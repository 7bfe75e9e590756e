"""A direct transmission of the subject's portable data to another controller, as recorded by staff."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import UTCDateTime, db, enum_column_type


class TransmissionChannel(enum.StrEnum):
    SECURE_EMAIL = "secure_email"
    SFTP = "sftp"
    API = "api"
    DATA_CARRIER = "data_carrier"  # an encrypted data carrier sent by post or courier


class DirectTransmission(db.Model):
    __tablename__ = "direct_transmissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    # The organisation the subject named; a controller, not a person, so it stays when the file is reduced.
    receiving_controller: Mapped[str] = mapped_column(sa.String(200))
    channel: Mapped[TransmissionChannel] = mapped_column(enum_column_type(TransmissionChannel,
                                                                          "transmission_channel"))
    transmitted_on: Mapped[date] = mapped_column(sa.Date)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship()  # noqa: F821
    recorded_by: Mapped[User | None] = relationship()  # noqa: F821

    __table_args__ = (sa.CheckConstraint("length(trim(receiving_controller)) > 0", name="controller_named"),)
