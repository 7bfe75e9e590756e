"""Cases, their requested rights, reference numbers and the declared-holiday data the clock uses."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.domain.enums import (
    CLOSED_STATES,
    CaseState,
    Channel,
    Language,
    LinkKind,
    Priority,
    RefusalGround,
    Right,
)
from dsr.extensions import UTCDateTime, db, enum_column_type

_closed = ", ".join(f"'{s.value}'" for s in sorted(CLOSED_STATES))
# The columns the open queue's index carries besides its order (PostgreSQL; SQLite has no INCLUDE): with them
# the overdue filter's count reads the index only (issue 15, item 3).
OPEN_DUE_INCLUDES = ["paused_since", "state", "extended_due_on", "legal_due_on"]


class Case(db.Model):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)
    # NULL only once the case file was reduced by dsr's own retention (dsr.casefiles).
    subject_id: Mapped[int | None] = mapped_column(sa.ForeignKey("data_subjects.id"), index=True)
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
    priority: Mapped[Priority] = mapped_column(enum_column_type(Priority, "case_priority"),
                                               default=Priority.NORMAL, server_default="normal")
    # The decision that closed the case: the completion summary, the refusal's written justification.
    decision: Mapped[str | None] = mapped_column(sa.Text)
    refusal_ground: Mapped[RefusalGround | None] = mapped_column(enum_column_type(RefusalGround, "refusal_ground"))
    withdrawal_how: Mapped[str | None] = mapped_column(sa.String(500))
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"))
    # Clock state. paused_days counts only ended pauses that were asked for in time; paused_since is the
    # start of the counted pause that is still running. Both deadlines already include paused_days.
    paused_days: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    paused_since: Mapped[date | None] = mapped_column(sa.Date)
    late_pause_requests: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    # Extension by two further months (Art. 12(3)).
    extension_reason: Mapped[str | None] = mapped_column(sa.Text)
    extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extended_due_on: Mapped[date | None] = mapped_column(sa.Date)
    # The obligation the extension creates: tell the subject, with reasons, before the original deadline.
    extension_notice_due_on: Mapped[date | None] = mapped_column(sa.Date)
    extension_notice_sent_on: Mapped[date | None] = mapped_column(sa.Date)
    # When dsr's own retention reduced the closed case file to reference, rights, dates and outcome.
    reduced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The request is about a deceased person (recital 27: the GDPR does not apply); the day, as far as known.
    subject_deceased_on: Mapped[date | None] = mapped_column(sa.Date)
    subject_deceased_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    subject: Mapped[DataSubject | None] = relationship(back_populates="cases")  # noqa: F821
    rights: Mapped[list[CaseRight]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseRight.id"
    )
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])  # noqa: F821
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])  # noqa: F821
    attachments: Mapped[list[Attachment]] = relationship(  # noqa: F821
        back_populates="case", order_by="Attachment.id"
    )
    pauses: Mapped[list[CasePause]] = relationship(
        back_populates="case", order_by="CasePause.id", cascade="all, delete-orphan"
    )
    merged_into: Mapped[Case | None] = relationship(remote_side=[id], foreign_keys=[merged_into_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(
            f"(state IN ({_closed})) = (closed_at IS NOT NULL)", name="closed_iff_closed_at"
        ),
        sa.CheckConstraint("legal_due_on > received_on", name="legal_due_after_receipt"),
        sa.CheckConstraint("promised_on > received_on", name="promise_after_receipt"),
        # What each state implies (STYLE.md point 4): a decided case carries its decision ...
        sa.CheckConstraint("state NOT IN ('completed', 'refused') OR decision IS NOT NULL", name="decided_has_decision"),
        sa.CheckConstraint("state <> 'refused' OR refusal_ground IS NOT NULL", name="refused_has_ground"),
        sa.CheckConstraint("state <> 'withdrawn' OR withdrawal_how IS NOT NULL", name="withdrawn_has_how"),
        sa.CheckConstraint("merged_into_id IS NULL OR state = 'closed'", name="merged_is_closed"),
        # ... and an extended case its reason, date and the notice it owes.
        sa.CheckConstraint(
            "(extended_due_on IS NULL) = (extension_reason IS NULL) AND (extended_due_on IS NULL) = "
            "(extended_at IS NULL) AND (extended_due_on IS NULL) = (extension_notice_due_on IS NULL)",
            name="extension_complete"),
        sa.CheckConstraint("extended_due_on IS NULL OR extended_due_on > legal_due_on", name="extension_later"),
        sa.CheckConstraint("paused_days >= 0 AND late_pause_requests >= 0", name="clock_counts"),
        # Only a closed case is reduced, and only a reduced case has lost its subject.
        sa.CheckConstraint("reduced_at IS NULL OR closed_at IS NOT NULL", name="reduced_is_closed"),
        sa.CheckConstraint("subject_id IS NOT NULL OR reduced_at IS NOT NULL", name="subject_unless_reduced"),
        # The queue's order (the deadline in force, then id), for every list: all cases, one state, and the
        # open queue (a partial index: closed cases are most of the table and never in the open queue). The
        # open queue's carries what the overdue filter compares (the deadline in force with the day a pause
        # began), so its count is read from the index alone on PostgreSQL, not from the cases' rows.
        sa.Index("ix_cases_due", sa.text("coalesce(extended_due_on, legal_due_on)"), "id"),
        sa.Index("ix_cases_state_due", "state", sa.text("coalesce(extended_due_on, legal_due_on)"), "id"),
        sa.Index("ix_cases_open_due", sa.text("coalesce(extended_due_on, legal_due_on)"), "id",
                 postgresql_include=OPEN_DUE_INCLUDES,
                 postgresql_where=sa.text(f"state NOT IN ({_closed})"), sqlite_where=sa.text(f"state NOT IN ({_closed})")),
        # The dashboard's answered cases: closed in a period.
        sa.Index("ix_cases_closed_at", "closed_at", postgresql_where=sa.text("closed_at IS NOT NULL"),
                 sqlite_where=sa.text("closed_at IS NOT NULL")),
        # The case files not yet reduced, by closing: how many are past their period is counted from it alone
        # (closed_at is set exactly when the state is a closed one: closed_iff_closed_at).
        sa.Index("ix_cases_unreduced_closed_at", "closed_at",
                 postgresql_where=sa.text("reduced_at IS NULL AND closed_at IS NOT NULL"),
                 sqlite_where=sa.text("reduced_at IS NULL AND closed_at IS NOT NULL")),
    )

    @property
    def subject_deceased(self) -> bool:
        return self.subject_deceased_recorded_at is not None

    @property
    def due_on(self) -> date:
        """The deadline in force: the extended one after an extension, otherwise the legal one."""
        return self.extended_due_on or self.legal_due_on

    @property
    def extension_notice_owed(self) -> bool:
        return self.extended_due_on is not None and self.extension_notice_sent_on is None

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


class CasePause(db.Model):
    """A request for information to identify the subject or clarify the request (EDPB 01/2022 §159).

    ``counted`` is false when the information was asked for too late: the pause is recorded and flagged,
    but the clock kept running.
    """

    __tablename__ = "case_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    requested_on: Mapped[date] = mapped_column(sa.Date)
    resumed_on: Mapped[date | None] = mapped_column(sa.Date)
    counted: Mapped[bool] = mapped_column(sa.Boolean)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resumed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    case: Mapped[Case] = relationship(back_populates="pauses")

    __table_args__ = (
        sa.CheckConstraint("resumed_on IS NULL OR resumed_on >= requested_on", name="resumed_after_request"),
    )

    @property
    def days(self) -> int | None:
        return (self.resumed_on - self.requested_on).days if self.resumed_on else None


class RepeatedRequest(db.Model):
    """An earlier request of the same person that a request refused as excessive repeats: the evidence of the
    repetition, named in the refusal letter (EDPB Guidelines 01/2022 §§175–193; issue 14, item 10)."""

    __tablename__ = "repeated_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    earlier_case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(foreign_keys=[case_id])
    earlier_case: Mapped[Case] = relationship(foreign_keys=[earlier_case_id])

    __table_args__ = (
        sa.UniqueConstraint("case_id", "earlier_case_id"),
        sa.CheckConstraint("case_id <> earlier_case_id", name="not_self"),
    )


class CaseLink(db.Model):
    """Two cases of the same person that belong together (a duplicate or a related request)."""

    __tablename__ = "case_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    linked_case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[LinkKind] = mapped_column(enum_column_type(LinkKind, "link_kind"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(foreign_keys=[case_id])
    linked_case: Mapped[Case] = relationship(foreign_keys=[linked_case_id])

    __table_args__ = (
        sa.UniqueConstraint("case_id", "linked_case_id"),
        sa.CheckConstraint("case_id <> linked_case_id", name="not_self"),
    )
