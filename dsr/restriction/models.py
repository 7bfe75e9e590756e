"""Restriction of processing (GDPR Art. 18): the grounds invoked, the records restricted, and the lift.

* :class:`RestrictionGroundRecord`: a ground of Art. 18(1) the subject invokes, (a) and (d) linked to the
  case whose rectification or objection is the period of the restriction.
* :class:`RestrictedRecord`: one record (or, in a manual source, one collection) restricted for the case:
  by dsr setting the marker field the data map declares, or by a person through a task. Per-record outcome
  of restricting and of lifting; references and field names, never the record's values.
* :class:`RestrictionLift`: the decision to lift the restriction with its reason, which the subject is told
  beforehand (Art. 18(3)); ``lifted_at`` once it was lifted.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.domain.restriction import RestrictionGround
from dsr.extensions import UTCDateTime, db, enum_column_type


class RestrictMethod(enum.StrEnum):
    MARKER = "marker"  # dsr sets the collection's restriction marker field
    PERSON = "person"  # no marker (a manual source, a collection without one): a task for a person


class RestrictedStatus(enum.StrEnum):
    PENDING = "pending"  # a person is to restrict it (their task is open)
    RESTRICTED = "restricted"
    LIFT_PENDING = "lift_pending"  # the restriction is lifted; a person is to lift it here (task open)
    LIFTED = "lifted"


class RestrictionGroundRecord(db.Model):
    """One ground of Art. 18(1) the subject invokes, with their own words; (a) and (d) name the case whose
    rectification or objection decides how long the restriction holds (it may be this case)."""

    __tablename__ = "restriction_grounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    ground: Mapped[RestrictionGround] = mapped_column(enum_column_type(RestrictionGround, "restriction_ground"))
    linked_case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="SET NULL"))
    explanation: Mapped[str | None] = mapped_column(sa.Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    case: Mapped[Case] = relationship(foreign_keys=[case_id])  # noqa: F821
    linked_case: Mapped[Case | None] = relationship(foreign_keys=[linked_case_id])  # noqa: F821
    recorded_by: Mapped[User | None] = relationship()  # noqa: F821

    __table_args__ = (
        sa.UniqueConstraint("case_id", "ground"),
        # (b) and (c) stand on their own; (a) and (d) last as long as a rectification or an objection.
        sa.CheckConstraint("ground IN ('accuracy_contested', 'objection_pending') OR linked_case_id IS NULL",
                           name="link_only_for_a_and_d"),
    )


class RestrictedRecord(db.Model):
    """One record restricted for a case (a manual source: one collection), how, and with what outcome.

    ``marker``: dsr set ``marker_field`` on the record found by the confirmed lookup (``found_record_id``,
    source, collection, primary key). ``person``: a task asks someone to restrict it (``task_id``) and they
    say what they did (``result``). Lifting clears the marker, or gives a person a task (``lift_task_id``).
    """

    __tablename__ = "restricted_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    method: Mapped[RestrictMethod] = mapped_column(enum_column_type(RestrictMethod, "restrict_method"))
    found_record_id: Mapped[int | None] = mapped_column(sa.ForeignKey("found_records.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(sa.String(100))
    collection: Mapped[str] = mapped_column(sa.String(100))
    primary_key: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    marker_field: Mapped[str | None] = mapped_column(sa.String(100))
    status: Mapped[RestrictedStatus] = mapped_column(enum_column_type(RestrictedStatus, "restricted_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    task_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case_tasks.id"))
    restricted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    restricted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    result: Mapped[str | None] = mapped_column(sa.Text)
    lift_task_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case_tasks.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    lift_result: Mapped[str | None] = mapped_column(sa.Text)
    # The recipients the record names (``{statement recipient id: [names]}``, from fields the data map marks
    # ``dsr.recipient``), read when dsr restricted it: Art. 19 lists them by that name.
    recipients: Mapped[dict[str, list[str]] | None] = mapped_column(sa.JSON(none_as_null=True))

    case: Mapped[Case] = relationship()  # noqa: F821
    task: Mapped[CaseTask | None] = relationship(foreign_keys=[task_id])  # noqa: F821
    lift_task: Mapped[CaseTask | None] = relationship(foreign_keys=[lift_task_id])  # noqa: F821
    restricted_by: Mapped[User | None] = relationship(foreign_keys=[restricted_by_id])  # noqa: F821
    lifted_by: Mapped[User | None] = relationship(foreign_keys=[lifted_by_id])  # noqa: F821

    __table_args__ = (
        # dsr sets a marker on a record it found; a person gets a task.
        sa.CheckConstraint(
            "(method = 'marker' AND marker_field IS NOT NULL AND primary_key IS NOT NULL AND task_id IS NULL)"
            " OR (method = 'person' AND marker_field IS NULL AND task_id IS NOT NULL)", name="method_complete"),
        # Restricted (and later lifted) means when, and what was done.
        sa.CheckConstraint("(status = 'pending') = (restricted_at IS NULL)", name="restricted_when"),
        sa.CheckConstraint("restricted_at IS NULL OR (result IS NOT NULL AND length(trim(result)) > 0)",
                           name="restricted_has_result"),
        sa.CheckConstraint("(status = 'lifted') = (lifted_at IS NOT NULL)", name="lifted_when"),
        sa.CheckConstraint("lifted_at IS NULL OR (lift_result IS NOT NULL AND length(trim(lift_result)) > 0)",
                           name="lifted_has_result"),
    )

    @property
    def key_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in (self.primary_key or {}).items())

    @property
    def place_text(self) -> str:
        key = self.key_text
        return f"{self.source}/{self.collection}" + (f"/{key}" if key else "")

    @property
    def in_force(self) -> bool:
        """The record is (to be) restricted: not yet lifted."""
        return self.status in (RestrictedStatus.PENDING, RestrictedStatus.RESTRICTED)


class RestrictionLift(db.Model):
    """The privacy manager's decision to lift a case's restriction (Art. 18(3)), with the reason the subject
    is told beforehand in a letter; ``lifted_at`` once the markers were cleared (or tasks given)."""

    __tablename__ = "restriction_lifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    case: Mapped[Case] = relationship()  # noqa: F821
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])  # noqa: F821
    lifted_by: Mapped[User | None] = relationship(foreign_keys=[lifted_by_id])  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("length(trim(reason)) > 0", name="reason_given"),
        sa.CheckConstraint("lifted_at IS NULL OR lifted_at >= decided_at", name="lifted_after_decided"),
    )


def lift_of(case) -> RestrictionLift | None:
    """The case's decision to lift its restriction, if any (here, not in operations: texts read it too)."""
    return db.session.execute(sa.select(RestrictionLift).where(
        RestrictionLift.case_id == case.id)).scalar_one_or_none()
