"""Objections (GDPR Art. 21): direct-marketing stops and balancing decisions. The suppression list they
add to is :mod:`dsr.suppression.models`'s.

* :class:`MarketingStop`: a direct-marketing objection carried out (Art. 21(2)-(3)): what was removed
  from Harmony's systems (references, no values) and how many identifiers went on the list.
* :class:`ObjectionDecision`: an objection to processing on legitimate interests or a public task
  (Art. 21(1)): recorded with the subject's grounds, then decided by the privacy manager after balancing.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import UTCDateTime, db, enum_column_type


class ObjectionStatus(enum.StrEnum):
    PENDING = "pending"  # recorded with the subject's grounds, awaiting the privacy manager
    DECIDED = "decided"


class ObjectionOutcome(enum.StrEnum):
    UPHELD = "upheld"  # the processing stops for this person (Art. 21(1), first sentence)
    REJECTED = "rejected"  # compelling legitimate grounds, or legal claims: a (partial) refusal


class ObjectionEffect(enum.StrEnum):
    """What an upheld objection does to the processing (a task for the case's assignee)."""

    STOP = "stop"  # the processing stops (no more survey invitations, ...); the records may stay
    ERASE = "erase"  # the records are erased: Art. 17(1)(c)
    RESTRICT = "restrict"  # the records are kept but not used (Art. 18)


class MarketingStop(db.Model):
    """Direct marketing stopped for a case's subject (Art. 21(3)): at once, by staff, no balancing.

    ``removed`` lists each marketing subscription found, as ``{"source", "collection", "key", "result"}``
    (``row deleted``, ``not found: already gone``, ``kept: legal hold ...``); ``failed`` is ``{source:
    error}`` for a source that could not be changed (its transaction was rolled back). ``lookup_id`` is the
    confirmed search the subscriptions came from; None when only the suppression list was updated.
    """

    __tablename__ = "marketing_stops"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    lookup_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lookups.id"))
    stopped_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stopped_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    removed: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    failed: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    # Identifiers of the subject newly put on the list, and how many of theirs are on it now.
    identifiers_added: Mapped[int] = mapped_column(sa.Integer)
    identifiers_listed: Mapped[int] = mapped_column(sa.Integer)
    kinds: Mapped[list[str]] = mapped_column(sa.JSON)

    case: Mapped[Case] = relationship()  # noqa: F821
    stopped_by: Mapped[User] = relationship()  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("identifiers_added >= 0 AND identifiers_listed >= identifiers_added",
                           name="identifier_counts"),
    )

    @property
    def removed_count(self) -> int:
        return sum(1 for r in self.removed if r.get("result") == "row deleted")

    @property
    def kept(self) -> list[dict[str, Any]]:
        return [r for r in self.removed if str(r.get("result", "")).startswith("kept")]

    @property
    def complete(self) -> bool:
        return not self.failed


class ObjectionDecision(db.Model):
    """An objection to processing on legitimate interests or a public task (Art. 21(1)) and its balancing.

    Staff record which processing and the subject's grounds "relating to his or her particular situation";
    the privacy manager decides: upheld (the processing stops, ``effect`` says how) or rejected because
    Harmony demonstrates compelling legitimate grounds that override the subject's interests, or needs the
    data for legal claims (``compelling_grounds``). A rejection makes the reply a (partial) refusal, with
    the complaint route (Art. 12(4)). ``processing`` is the data map's ``source/collection``;
    ``processing_name``, ``legal_basis`` and ``purposes`` are kept as they stood when it was recorded.
    """

    __tablename__ = "objection_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    processing: Mapped[str] = mapped_column(sa.String(201))
    processing_name: Mapped[str] = mapped_column(sa.String(300))
    legal_basis: Mapped[str] = mapped_column(sa.String(40))
    purposes: Mapped[list[int]] = mapped_column(sa.JSON)
    subject_grounds: Mapped[str] = mapped_column(sa.Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[ObjectionStatus] = mapped_column(enum_column_type(ObjectionStatus, "objection_status"))
    outcome: Mapped[ObjectionOutcome | None] = mapped_column(enum_column_type(ObjectionOutcome, "objection_outcome"))
    compelling_grounds: Mapped[str | None] = mapped_column(sa.Text)
    reasons: Mapped[str | None] = mapped_column(sa.Text)
    effect: Mapped[ObjectionEffect | None] = mapped_column(enum_column_type(ObjectionEffect, "objection_effect"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    case: Mapped[Case] = relationship()  # noqa: F821
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])  # noqa: F821
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("length(trim(subject_grounds)) > 0", name="grounds_given"),
        # Decided means by someone, when, with an outcome and reasons; pending means none of these.
        sa.CheckConstraint(
            "(status = 'decided') = (decided_at IS NOT NULL) AND (decided_at IS NULL) = (decided_by_id IS NULL) "
            "AND (decided_at IS NULL) = (outcome IS NULL) AND (decided_at IS NULL) = (reasons IS NULL)",
            name="decided_complete"),
        sa.CheckConstraint("reasons IS NULL OR length(trim(reasons)) > 0", name="reasons_given"),
        # An upheld objection says what happens to the processing; only an upheld one does.
        sa.CheckConstraint("(effect IS NOT NULL) = (outcome IS NOT NULL AND outcome = 'upheld')",
                           name="effect_when_upheld"),
        # A rejection rests on Harmony's compelling grounds (Art. 21(1)): they must be written down.
        sa.CheckConstraint(
            "outcome IS NULL OR outcome = 'upheld' OR "
            "(compelling_grounds IS NOT NULL AND length(trim(compelling_grounds)) > 0)",
            name="rejection_has_grounds"),
    )

    @property
    def is_pending(self) -> bool:
        return self.status is ObjectionStatus.PENDING
