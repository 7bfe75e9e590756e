"""The requester of a case when it is not the subject, with the mandate and identity checks that cover them."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.domain.enums import VerificationMethod
from dsr.extensions import UTCDateTime, db, enum_column_type


class RequesterRole(enum.StrEnum):
    REPRESENTATIVE = "representative"  # anyone the subject authorised in writing
    PARENT_GUARDIAN = "parent_guardian"  # parental authority over a child under 16 (UAVG art. 5)
    CURATOR = "curator"  # curatele (BW 1:378 ff.), appointed by the court
    MENTOR = "mentor"  # mentorschap (BW 1:450 ff.), appointed by the court
    LAWYER = "lawyer"  # advocaat acting for the subject
    RELATIVE = "relative"  # a relative, heir or executor asking about a deceased subject (recital 27)

    @property
    def needs_mandate(self) -> bool:
        """A representative, curator, mentor or lawyer shows the document that gives them the power to act; a
        parent of a child under 16 acts by law (UAVG art. 5), and a relative of a deceased person acts for no one."""
        return self not in (RequesterRole.PARENT_GUARDIAN, RequesterRole.RELATIVE)


class CaseRequester(db.Model):
    __tablename__ = "case_requesters"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    role: Mapped[RequesterRole] = mapped_column(enum_column_type(RequesterRole, "requester_role"))
    name: Mapped[str] = mapped_column(sa.String(200))
    address: Mapped[str | None] = mapped_column(sa.String(300))
    postcode: Mapped[str | None] = mapped_column(sa.String(20))
    city: Mapped[str | None] = mapped_column(sa.String(100))
    country: Mapped[str | None] = mapped_column(sa.String(2))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    # The mandate (a signed authorisation, the court's appointment, the lawyer's letter), kept with the case.
    mandate_attachment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("attachments.id", ondelete="SET NULL"))
    mandate_scope: Mapped[str | None] = mapped_column(sa.Text)
    mandate_expires_on: Mapped[date | None] = mapped_column(sa.Date)
    mandate_checked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    mandate_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The requester's own identity, checked as the subject's is (Art. 12(6)); never the document itself.
    identity_method: Mapped[VerificationMethod | None] = mapped_column(
        enum_column_type(VerificationMethod, "requester_verification_method"))
    identity_verified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    identity_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship()  # noqa: F821
    mandate: Mapped[Attachment | None] = relationship()  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("length(trim(name)) > 0", name="named"),
        sa.CheckConstraint("(mandate_checked_at IS NULL) = (mandate_checked_by_id IS NULL)", name="mandate_checked_by"),
        sa.CheckConstraint("mandate_checked_at IS NULL OR role IN ('parent_guardian', 'relative') OR "
                           "(mandate_attachment_id IS NOT NULL AND mandate_scope IS NOT NULL)", name="mandate_complete"),
        sa.CheckConstraint("(identity_verified_at IS NULL) = (identity_method IS NULL)", name="identity_complete"),
    )
