"""Lookups of a subject's data in Harmony's systems, the records they found, and legal holds.

dsr must not become one more copy of the customer's data: a found record is stored as a *reference*
(source, collection, primary key) with the data categories it holds and how it was reached, never with the
values of its fields. The one value kept is the record's date where the data map declares ``dated_by``:
the retention rules count their periods from it (DESIGN.md, "Retention and exemptions").
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.domain.enums import LookupStatus
from dsr.extensions import UTCDateTime, db, enum_column_type


class Lookup(db.Model):
    """One search of every source for a case's subject (issue 4, item 3), and staff's verdict on the match.

    ``summary`` is ``{source: {collection: {"count": n, "categories": [...]}}}``; a SQL source that was
    searched and held nothing maps to ``{}``. ``manual_tasks`` is ``{source: task id}`` for the manual
    sources (paper archive, Focus Feedback), which a person searches.
    """

    __tablename__ = "lookups"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    run_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The identities searched with, as they stood on the subject at the time (they may be corrected later).
    identities: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    status: Mapped[LookupStatus] = mapped_column(enum_column_type(LookupStatus, "lookup_status"))
    error: Mapped[str | None] = mapped_column(sa.Text)
    summary: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    manual_tasks: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)

    case: Mapped[Case] = relationship()  # noqa: F821
    run_by: Mapped[User | None] = relationship(foreign_keys=[run_by_id])  # noqa: F821
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])  # noqa: F821
    rejected_by: Mapped[User | None] = relationship(foreign_keys=[rejected_by_id])  # noqa: F821
    records: Mapped[list[FoundRecord]] = relationship(
        back_populates="lookup", cascade="all, delete-orphan", order_by="FoundRecord.id")

    __table_args__ = (
        sa.CheckConstraint("(status = 'failed') = (error IS NOT NULL)", name="failed_has_error"),
        # A match is confirmed or rejected by a person (who, when), and a rejection says why.
        sa.CheckConstraint("(confirmed_at IS NULL) = (confirmed_by_id IS NULL)", name="confirmed_complete"),
        sa.CheckConstraint("(rejected_at IS NULL) = (rejected_by_id IS NULL) AND "
                           "(rejected_at IS NULL) = (rejection_reason IS NULL)", name="rejected_complete"),
        sa.CheckConstraint("confirmed_at IS NULL OR rejected_at IS NULL", name="confirmed_or_rejected"),
        # Only found records can be confirmed as this person's, or rejected as someone else's.
        sa.CheckConstraint("(confirmed_at IS NULL AND rejected_at IS NULL) OR status = 'found'",
                           name="decided_only_when_found"),
    )

    @property
    def record_count(self) -> int:
        return sum(c["count"] for colls in self.summary.values() for c in colls.values())

    @property
    def match(self) -> str:
        """``confirmed``, ``rejected``, ``pending`` (found, not yet judged) or ``none`` (nothing to judge)."""
        if self.confirmed_at is not None:
            return "confirmed"
        if self.rejected_at is not None:
            return "rejected"
        return "pending" if self.status is LookupStatus.FOUND else "none"


class FoundRecord(db.Model):
    """A reference to one record a lookup found: where it is and what categories of data it holds."""

    __tablename__ = "found_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    lookup_id: Mapped[int] = mapped_column(sa.ForeignKey("lookups.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(sa.String(100))
    collection: Mapped[str] = mapped_column(sa.String(100))
    primary_key: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    # The fideslang categories of the fields that hold a value in this record.
    categories: Mapped[list[str]] = mapped_column(sa.JSON)
    # The identity ("email", "name+date_of_birth+postcode") or reference ("policies.id") that reached it.
    matched_by: Mapped[str] = mapped_column(sa.String(300))
    record_date: Mapped[date | None] = mapped_column(sa.Date)

    lookup: Mapped[Lookup] = relationship(back_populates="records")

    @property
    def key_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.primary_key.items())


class LegalHold(db.Model):
    """A hold on all data of a subject or on one record (Art. 17(3)(e)): nothing held is erased.

    Placed and released by a privacy manager, each with a reason. A hold on a record names it by source,
    collection and primary key, as a found record does; a hold on a subject covers every record of theirs.
    """

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int | None] = mapped_column(sa.ForeignKey("data_subjects.id"), index=True)
    source: Mapped[str | None] = mapped_column(sa.String(100))
    collection: Mapped[str | None] = mapped_column(sa.String(100))
    primary_key: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    # The case the hold was placed from, if any: its page lists the hold and its history records it.
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    placed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    release_reason: Mapped[str | None] = mapped_column(sa.Text)

    subject: Mapped[DataSubject | None] = relationship()  # noqa: F821
    case: Mapped[Case | None] = relationship()  # noqa: F821
    placed_by: Mapped[User] = relationship(foreign_keys=[placed_by_id])  # noqa: F821
    released_by: Mapped[User | None] = relationship(foreign_keys=[released_by_id])  # noqa: F821

    __table_args__ = (
        sa.Index("ix_legal_holds_record", "source", "collection"),
        # Exactly one target: a subject, or a record named completely.
        sa.CheckConstraint(
            "(subject_id IS NOT NULL AND source IS NULL AND collection IS NULL AND primary_key IS NULL) OR "
            "(subject_id IS NULL AND source IS NOT NULL AND collection IS NOT NULL AND primary_key IS NOT NULL)",
            name="one_target"),
        sa.CheckConstraint("length(trim(reason)) > 0", name="reason_given"),
        # Released means released by someone, for a reason; not released means none of the three.
        sa.CheckConstraint(
            "(released_at IS NULL) = (released_by_id IS NULL) AND (released_at IS NULL) = (release_reason IS NULL)",
            name="release_complete"),
        sa.CheckConstraint("release_reason IS NULL OR length(trim(release_reason)) > 0",
                           name="release_reason_given"),
        sa.CheckConstraint("released_at IS NULL OR released_at >= placed_at", name="released_after_placed"),
    )

    @property
    def is_active(self) -> bool:
        return self.released_at is None

    @property
    def on_subject(self) -> bool:
        return self.subject_id is not None

    @property
    def record_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in (self.primary_key or {}).items())
