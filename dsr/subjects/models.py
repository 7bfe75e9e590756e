"""The data subject as known to the privacy team (not Harmony's customer record: that lives in its systems)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.domain.enums import SearchKind, SubjectTitle
from dsr.extensions import UTCDateTime, db, enum_column_type


class DataSubject(db.Model):
    __tablename__ = "data_subjects"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored exactly as typed, any Unicode; escaped wherever shown.
    name: Mapped[str] = mapped_column(sa.String(200))
    # Case-, accent- and space-insensitive form of the name, for matching ("Zoe van den broeck").
    name_key: Mapped[str] = mapped_column(sa.String(200), index=True)
    date_of_birth: Mapped[date | None] = mapped_column(sa.Date)
    address: Mapped[str | None] = mapped_column(sa.String(300))
    postcode: Mapped[str | None] = mapped_column(sa.String(20))
    city: Mapped[str | None] = mapped_column(sa.String(100))
    country: Mapped[str | None] = mapped_column(sa.String(2))
    # Mr or Ms, as the person signs or as Harmony's records say; unknown: None ("Geachte heer/mevrouw").
    title: Mapped[SubjectTitle | None] = mapped_column(enum_column_type(SubjectTitle, "subject_title"))
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    customer_number: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    policy_number: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    device_id: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    cases: Mapped[list[Case]] = relationship(  # noqa: F821
        back_populates="subject", order_by="Case.received_on.desc()"
    )

    def __repr__(self) -> str:
        return f"<DataSubject {self.id}>"


class SubjectSearchKey(db.Model):
    """One normalised identifier of a subject, so the queue finds a case by any of them through an index.

    Kept in step with :class:`DataSubject` by :mod:`dsr.subjects.search` whenever a subject is created or its
    identifying fields change, whatever operation changed them. ``kind`` says which field a key came from;
    names are stored as every word-suffix of the name ("zoevandenbroeck", "vandenbroeck", ...), so a prefix
    range on the one index finds a first name, a surname or both.
    """

    __tablename__ = "subject_search_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("data_subjects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[SearchKind] = mapped_column(enum_column_type(SearchKind, "search_kind"))
    key: Mapped[str] = mapped_column(sa.String(254))

    __table_args__ = (sa.Index("ix_subject_search_keys_key", "key", "kind", "subject_id"),)
