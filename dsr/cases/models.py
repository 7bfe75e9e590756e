"""Cases, their requested rights, reference numbers and the declared-holiday data the clock uses."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.domain.enums import CLOSED_STATES, CaseState, Channel, Language, Right
from dsr.extensions import UTCDateTime, db, enum_column_type

_closed = ", ".join(f"'{s.value}'" for s in sorted(CLOSED_STATES))


class Case(db.Model):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("data_subjects.id"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_column_type(Channel, "case_channel"))
    # The day the request reached an official channel, not the day it was typed in (EDPB 01/2022 §159).
    received_on: Mapped[date] = mapped_column(sa.Date, index=True)
    language: Mapped[Language] = mapped_column(enum_column_type(Language, "case_language"))
    state: Mapped[CaseState] = mapped_column(enum_column_type(CaseState, "case_state"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    notes: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # Deadlines are derived by the domain clock and kept here so the queue can sort and filter in SQL.
    promised_on: Mapped[date] = mapped_column(sa.Date)
    legal_due_on: Mapped[date] = mapped_column(sa.Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic locking: a save from a stale page fails instead of overwriting (no lost updates).
    version: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")

    subject: Mapped[DataSubject] = relationship(back_populates="cases")  # noqa: F821
    rights: Mapped[list[CaseRight]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseRight.id"
    )
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])  # noqa: F821
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])  # noqa: F821
    attachments: Mapped[list[Attachment]] = relationship(  # noqa: F821
        back_populates="case", order_by="Attachment.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(
            f"(state IN ({_closed})) = (closed_at IS NOT NULL)", name="closed_iff_closed_at"
        ),
        sa.CheckConstraint("legal_due_on > received_on", name="legal_due_after_receipt"),
        sa.CheckConstraint("promised_on > received_on", name="promise_after_receipt"),
    )

    @property
    def right_values(self) -> list[Right]:
        order = list(Right)
        return sorted((r.right for r in self.rights), key=order.index)

    def __repr__(self) -> str:
        return f"<Case {self.reference} {self.state}>"


class CaseRight(db.Model):
    """One right invoked by a case: a letter often asks for several at once."""

    __tablename__ = "case_rights"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    right: Mapped[Right] = mapped_column(enum_column_type(Right, "case_right"), index=True)

    case: Mapped[Case] = relationship(back_populates="rights")

    __table_args__ = (sa.UniqueConstraint("case_id", "right"),)


class ReferenceCounter(db.Model):
    """The last reference number handed out per year; updated under a row lock (many processes)."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(sa.Integer)


class DeclaredHoliday(db.Model):
    """A day the government declared equal to a public holiday (Algemene termijnenwet art. 3(3))."""

    __tablename__ = "declared_holidays"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    source: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
