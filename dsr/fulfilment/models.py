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
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from dsr.datamap.sharing import describe
from dsr.domain.enums import (
    ErasureItemKind,
    ErasureOutcome,
    ErasurePlanStatus,
    LookupMatch,
    LookupStatus,
    RedactionChoice,
    RedactionGround,
)
from dsr.domain.retention_rules import Action
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
    # Staff's verdict on the match, stored for queries and kept in step with status, confirmed_at and
    # rejected_at: set by _follow below whenever one of those changes, and held there by a CHECK.
    match: Mapped[LookupMatch] = mapped_column(enum_column_type(LookupMatch, "lookup_match"))

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
        # The verdict and its who/when agree: confirmed and rejected carry their person, pending awaits one.
        # (Named to sort last: PostgreSQL checks in name order, so the more specific constraints speak first.)
        sa.CheckConstraint("(match = 'confirmed') = (confirmed_at IS NOT NULL) AND "
                           "(match = 'rejected') = (rejected_at IS NOT NULL) AND "
                           "(match = 'none') = (status <> 'found')", name="verdict_agrees"),
    )

    @validates("status", "confirmed_at", "rejected_at")
    def _follow(self, key: str, value):
        """The verdict follows who judged: confirmed, rejected, else pending if records were found."""
        state = {"status": self.status, "confirmed_at": self.confirmed_at, "rejected_at": self.rejected_at}
        state[key] = value
        if state["confirmed_at"] is not None:
            self.match = LookupMatch.CONFIRMED
        elif state["rejected_at"] is not None:
            self.match = LookupMatch.REJECTED
        else:
            self.match = LookupMatch.PENDING if state["status"] == LookupStatus.FOUND else LookupMatch.NONE
        return value

    @property
    def record_count(self) -> int:
        return sum(c["count"] for colls in self.summary.values() for c in colls.values())


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
    # Also reached from another person (issue 13, item 2): a record that is not the subject's refers to it,
    # or holds one of its identity values. Such a record is never erased without a person deciding.
    # ``shared_reason`` is the English text of the case file; ``shared_with`` the records that reach it
    # (:meth:`dsr.datamap.sharing.SharedBy.as_json`), from which :meth:`shared_reason_in` words it again.
    shared: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    shared_reason: Mapped[str | None] = mapped_column(sa.Text)
    shared_with: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON(none_as_null=True))

    lookup: Mapped[Lookup] = relationship(back_populates="records")

    __table_args__ = (
        sa.CheckConstraint("shared = (shared_reason IS NOT NULL)", name="shared_has_reason"),
    )

    @property
    def key_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.primary_key.items())

    def shared_reason_in(self, language: str) -> str | None:
        """Why the record is shared, in ``language`` (nl, en, fr); None when it is the subject's alone."""
        if not self.shared:
            return None
        return describe(self.shared_with, language) if self.shared_with else self.shared_reason


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


class ErasurePlan(db.Model):
    """What an erasure request (Art. 17) does to each record of a confirmed lookup, approved before it runs.

    ``draft`` when built, ``approved`` by a privacy manager (another than the builder, unless the four-eyes
    setting is off), ``executing`` from the moment execution was committed until every source is done,
    ``executed`` once applied. Items kept today stay listed with their erase-on date; the scheduled job
    erases them when it comes.
    """

    __tablename__ = "erasure_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    lookup_id: Mapped[int] = mapped_column(sa.ForeignKey("lookups.id"), index=True)
    status: Mapped[ErasurePlanStatus] = mapped_column(enum_column_type(ErasurePlanStatus, "erasure_plan_status"))
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)
    built_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    execution_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    executed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    case: Mapped[Case] = relationship()  # noqa: F821
    lookup: Mapped[Lookup] = relationship()
    built_by: Mapped[User | None] = relationship(foreign_keys=[built_by_id])  # noqa: F821
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])  # noqa: F821
    executed_by: Mapped[User | None] = relationship(foreign_keys=[executed_by_id])  # noqa: F821
    items: Mapped[list[ErasurePlanItem]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="ErasurePlanItem.id")

    __table_args__ = (
        # Approval is a person's act (who, when); a draft has none, an approved or executed plan has it.
        sa.CheckConstraint("(approved_at IS NULL) = (status = 'draft')", name="approved_unless_draft"),
        sa.CheckConstraint("approved_at IS NULL OR approved_by_id IS NOT NULL", name="approved_by_someone"),
        sa.CheckConstraint("(executed_at IS NULL) = (status <> 'executed')", name="executed_has_time"),
        sa.CheckConstraint("executed_by_id IS NULL OR executed_at IS NOT NULL", name="executed_by_when_executed"),
        sa.CheckConstraint("(execution_started_at IS NULL) = (status IN ('draft', 'approved'))",
                           name="started_when_executing"),
    )


class ErasurePlanItem(db.Model):
    """One item of an erasure plan: a record's decision and, once applied, its outcome; or a person's task.

    A record item (``kind = record``) carries the retention engine's decision (action, rule, basis, article,
    erase-on date) and its outcome (:class:`~dsr.domain.enums.ErasureOutcome`); ``result`` names the fields
    nulled or masked or the row deleted, and why a row was anonymised, never a value of the record. A record
    the lookup found reached from another person too is ``shared`` (with the reason) and starts as
    ``review``, as does a record no rule covers: the privacy manager decides it (``decided_*``) before the
    plan can be approved. A paper or processor item is a task a person does (``done_*``, optional evidence)
    or records as impossible with a reason.
    """

    __tablename__ = "erasure_plan_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("erasure_plans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ErasureItemKind] = mapped_column(enum_column_type(ErasureItemKind, "erasure_item_kind"),
                                                  default=ErasureItemKind.RECORD)
    source: Mapped[str] = mapped_column(sa.String(100))
    collection: Mapped[str] = mapped_column(sa.String(100))
    primary_key: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    record_date: Mapped[date | None] = mapped_column(sa.Date)
    action: Mapped[Action] = mapped_column(enum_column_type(Action, "erasure_action"))
    shared: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    shared_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Only these fields are rewritten (a shared record the manager erases: the subject's own fields).
    only_fields: Mapped[list[str] | None] = mapped_column(sa.JSON(none_as_null=True))
    rule_id: Mapped[str] = mapped_column(sa.String(100))
    basis: Mapped[str] = mapped_column(sa.Text)
    article: Mapped[str] = mapped_column(sa.String(200))
    erase_on: Mapped[date | None] = mapped_column(sa.Date, index=True)
    until: Mapped[str | None] = mapped_column(sa.Text)
    breach: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # The rules (and book year) the decision was made under: the erase-due run decides again, before it
    # erases anything, every item decided under others (issue 13, item 1).
    rules_version: Mapped[str | None] = mapped_column(sa.String(40))
    # The privacy manager's decision on a review or shared item: keep or erase, with the reason.
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    outcome: Mapped[ErasureOutcome | None] = mapped_column(enum_column_type(ErasureOutcome, "erasure_outcome"))
    # The recipients the erased record named, read from it before it went: ``{statement recipient id:
    # [name, ...]}`` (the risk bearer, the repairer, the sales partner), for Art. 19.
    recipients: Mapped[dict[str, list[str]] | None] = mapped_column(sa.JSON(none_as_null=True))
    failure: Mapped[str | None] = mapped_column(sa.Text)
    result: Mapped[str | None] = mapped_column(sa.Text)
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A person's task (paper, processor): done on a day by someone, with optional evidence, or impossible.
    done_on: Mapped[date | None] = mapped_column(sa.Date)
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    evidence_id: Mapped[int | None] = mapped_column(sa.ForeignKey("attachments.id"))
    impossible_reason: Mapped[str | None] = mapped_column(sa.Text)

    plan: Mapped[ErasurePlan] = relationship(back_populates="items")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])  # noqa: F821
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])  # noqa: F821
    evidence: Mapped[Attachment | None] = relationship()  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("(executed_at IS NULL) = (result IS NULL)", name="executed_has_result"),
        sa.CheckConstraint("erase_on IS NULL OR action = 'keep'", name="erase_on_only_when_kept"),
        sa.CheckConstraint("(outcome = 'failed') = (failure IS NOT NULL)", name="failed_has_failure"),
        sa.CheckConstraint("outcome NOT IN ('deleted', 'anonymised') OR executed_at IS NOT NULL",
                           name="erased_when_executed"),
        sa.CheckConstraint("shared_reason IS NULL OR shared", name="shared_reason_only_when_shared"),
        sa.CheckConstraint("(decided_at IS NULL) = (decided_by_id IS NULL) AND "
                           "(decided_at IS NULL) = (decision_reason IS NULL)", name="decision_complete"),
        sa.CheckConstraint("(done_on IS NULL) = (done_by_id IS NULL)", name="done_by_someone"),
        sa.CheckConstraint("(outcome IN ('done', 'impossible')) = (done_on IS NOT NULL) OR kind = 'record'",
                           name="task_outcome_recorded"),
        sa.CheckConstraint("(outcome = 'impossible') = (impossible_reason IS NOT NULL)",
                           name="impossible_has_reason"),
        sa.CheckConstraint("kind <> 'record' OR (done_on IS NULL AND evidence_id IS NULL)",
                           name="tasks_only_for_people"),
    )

    @property
    def key_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.primary_key.items())

    @property
    def is_task(self) -> bool:
        return self.kind is not ErasureItemKind.RECORD

    @property
    def undecided(self) -> bool:
        """Waiting for the privacy manager: the plan cannot be approved while one item is."""
        return self.action is Action.REVIEW and self.decided_at is None


class StoredObjectDeletion(db.Model):
    """A stored object (a recorded call's audio) that goes with an erasure plan item's record (issue 13, item 5).

    Noted, with its address, before the record's source commits its erasure (after that, dsr is the only
    place that still knows where the object is); deleted through the object store and checked gone after
    the commit. ``deleted_at`` says when that was verified; ``error`` why the last attempt failed (the item
    is then ``failed`` and tried again). The address is where the object was, never its content.
    """

    __tablename__ = "stored_object_deletions"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("erasure_plan_items.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(sa.String(100))
    uri: Mapped[str] = mapped_column(sa.Text)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")

    item: Mapped[ErasurePlanItem] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("item_id", "field", "uri"),
        sa.CheckConstraint("deleted_at IS NULL OR error IS NULL", name="deleted_has_no_error"),
        sa.CheckConstraint("attempts >= 0", name="attempts_counted"),
    )


class RedactionDecision(db.Model):
    """A person's decision on one value that may hold other people's data, before the access copy is
    released (Art. 15(4); issue 18, item 4): release it, withhold marked passages, or withhold it all, and why.

    The value itself is not stored (dsr keeps references, not copies): ``record_key`` and ``field`` say which
    value, ``value_digest`` (an HMAC of the value as it was read) says whether it is still the value that was
    decided on (a changed value is undecided again), and ``spans`` the ``[start, end)`` character offsets of
    the passages to withhold. Staff may prepare a decision (``proposed_*``); only the privacy manager decides
    (``decided_*``): a value counts as reviewed once decided.
    """

    __tablename__ = "redaction_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    lookup_id: Mapped[int] = mapped_column(sa.ForeignKey("lookups.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(sa.String(100))
    collection: Mapped[str] = mapped_column(sa.String(100))
    record_key: Mapped[str] = mapped_column(sa.String(500))  # the primary key as canonical JSON
    field: Mapped[str] = mapped_column(sa.String(100))
    value_digest: Mapped[str] = mapped_column(sa.String(64))
    choice: Mapped[RedactionChoice] = mapped_column(enum_column_type(RedactionChoice, "redaction_choice"))
    ground: Mapped[RedactionGround | None] = mapped_column(enum_column_type(RedactionGround, "redaction_ground"))
    spans: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    note: Mapped[str | None] = mapped_column(sa.Text)  # staff's own note: never shown to the subject
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    proposed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])  # noqa: F821
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])  # noqa: F821

    __table_args__ = (
        # Named here: the convention's name (every column) is longer than PostgreSQL's 63 characters.
        sa.UniqueConstraint("lookup_id", "source", "collection", "record_key", "field",
                            name="uq_redaction_decisions_value"),
        sa.CheckConstraint("choice = 'release' OR ground IS NOT NULL", name="withheld_has_ground"),
        sa.CheckConstraint("(decided_at IS NULL) = (decided_by_id IS NULL)", name="decided_by_someone"),
    )

    @property
    def decided(self) -> bool:
        return self.decided_at is not None
