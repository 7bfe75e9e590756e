"""Identity verifications: method, outcome, by whom and when. Never the ID document itself."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.domain.enums import VerificationMethod, VerificationOutcome
from dsr.extensions import UTCDateTime, db, enum_column_type


class IdentityVerification(db.Model):
    __tablename__ = "identity_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    method: Mapped[VerificationMethod] = mapped_column(enum_column_type(VerificationMethod, "verification_method"))
    outcome: Mapped[VerificationOutcome] = mapped_column(enum_column_type(VerificationOutcome,
                                                                          "verification_outcome"))
    note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    verified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)

    verified_by: Mapped[User | None] = relationship()  # noqa: F821
