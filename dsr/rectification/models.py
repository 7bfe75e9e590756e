"""Corrections of a subject's data (Art. 16). The notices owed to the recipients (Art. 19) are
:mod:`dsr.notices`'s.

A :class:`Correction` names one field of one record in one of Harmony's systems, with the value it held
when the correction was proposed ("before", read from the source) and the value the subject asked for
("after", typed by staff). Unlike the lookup's references (:mod:`dsr.fulfilment.models`), a correction does
keep values: Art. 16 and the case file need to show what was changed from what to what, and the stale-value
check needs the "before" to compare with. Only the one field is kept, never the rest of the record.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.datamap.sources import SourceKind
from dsr.extensions import UTCDateTime, db, enum_column_type


class CorrectionStatus(enum.StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    REFUSED = "refused"


class Correction(db.Model):
    """One requested correction of one field (Art. 16): pending, then applied or refused with a reason.

    ``source_kind`` ``sql``: the record is one the case's confirmed lookup found (``found_record_id``, its
    source, collection and primary key) and the correction is written to the source by dsr. ``manual``: a
    paper archive or a processor; there is no record key, ``before`` is what the subject reports (or
    nothing) and a person carries the correction out through ``task_id``, marking it applied with a note.
    """

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    source_kind: Mapped[SourceKind] = mapped_column(enum_column_type(SourceKind, "correction_source_kind"))
    found_record_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("found_records.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(sa.String(100))
    collection: Mapped[str] = mapped_column(sa.String(100))
    primary_key: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    field: Mapped[str] = mapped_column(sa.String(100))
    # JSON values as the source gives them (dates as ISO text); NULL "before": the field was empty.
    before_value: Mapped[Any] = mapped_column(sa.JSON(none_as_null=True), nullable=True)
    after_value: Mapped[Any] = mapped_column(sa.JSON(none_as_null=True), nullable=False)
    # What the subject said about it (their letter, the proof they sent), as typed by staff.
    note: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[CorrectionStatus] = mapped_column(enum_column_type(CorrectionStatus, "correction_status"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    proposed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Refused: why (the data is accurate, no proof). Applied: what was done (by dsr, or the person's note).
    reason: Mapped[str | None] = mapped_column(sa.Text)
    result: Mapped[str | None] = mapped_column(sa.Text)
    task_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case_tasks.id"))

    case: Mapped[Case] = relationship()  # noqa: F821
    found_record: Mapped[FoundRecord | None] = relationship()  # noqa: F821
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])  # noqa: F821
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])  # noqa: F821
    task: Mapped[CaseTask | None] = relationship()  # noqa: F821

    __table_args__ = (
        # A SQL correction names its record completely; a manual one has no key but a task for a person.
        sa.CheckConstraint(
            "(source_kind = 'sql' AND found_record_id IS NOT NULL AND primary_key IS NOT NULL AND task_id IS NULL)"
            " OR (source_kind = 'manual' AND found_record_id IS NULL AND primary_key IS NULL)",
            name="target_complete"),
        sa.CheckConstraint("(decided_at IS NULL) = (status = 'pending')", name="decided_unless_pending"),
        sa.CheckConstraint("decided_at IS NULL OR decided_at >= proposed_at", name="decided_after_proposed"),
        # A refusal says why; an applied correction says what was done.
        sa.CheckConstraint("status <> 'refused' OR (reason IS NOT NULL AND length(trim(reason)) > 0)",
                           name="refused_has_reason"),
        sa.CheckConstraint("status <> 'applied' OR (result IS NOT NULL AND length(trim(result)) > 0)",
                           name="applied_has_result"),
    )

    @property
    def key_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in (self.primary_key or {}).items())

    @property
    def is_pending(self) -> bool:
        return self.status is CorrectionStatus.PENDING
