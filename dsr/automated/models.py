"""An Art. 22 request on a case: the decision it concerns, what the subject asks, and the human review."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import UTCDateTime, db, enum_column_type


class ReviewOutcome(enum.StrEnum):
    UPHELD = "upheld"  # the reviewer let the decision stand
    CHANGED = "changed"  # the reviewer changed (or withdrew) the decision


class AutomatedDecisionRequest(db.Model):
    """A request to obtain human intervention, to express one's view or to contest a decision (Art. 22(3)).

    One per case. ``decision_id`` names the decision in the controller's declaration
    (:mod:`dsr.automated.declaration`) when it is one of them; ``decision_described`` is the decision as the
    subject describes it (what, when), always. The review is who looked at it again (a person, by name and
    function), on which day, the outcome and a text for the subject; a view the subject expressed must have
    been considered in it.
    """

    __tablename__ = "automated_decision_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    decision_id: Mapped[str | None] = mapped_column(sa.String(60))
    decision_described: Mapped[str] = mapped_column(sa.Text)
    decided_on: Mapped[date | None] = mapped_column(sa.Date)
    human_intervention: Mapped[bool] = mapped_column(sa.Boolean)
    express_view: Mapped[bool] = mapped_column(sa.Boolean)
    contest: Mapped[bool] = mapped_column(sa.Boolean)
    subject_view: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    reviewer: Mapped[str | None] = mapped_column(sa.String(200))
    reviewed_on: Mapped[date | None] = mapped_column(sa.Date)
    outcome: Mapped[ReviewOutcome | None] = mapped_column(enum_column_type(ReviewOutcome, "review_outcome"))
    outcome_text: Mapped[str | None] = mapped_column(sa.Text)
    view_considered: Mapped[bool | None] = mapped_column(sa.Boolean)
    review_recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    review_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship()  # noqa: F821
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])  # noqa: F821
    review_recorded_by: Mapped[User | None] = relationship(foreign_keys=[review_recorded_by_id])  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("human_intervention OR express_view OR contest", name="something_asked"),
        sa.CheckConstraint("length(trim(decision_described)) > 0", name="decision_described"),
        sa.CheckConstraint("outcome IS NULL OR (reviewer IS NOT NULL AND reviewed_on IS NOT NULL "
                           "AND outcome_text IS NOT NULL AND review_recorded_at IS NOT NULL)", name="review_complete"),
    )

    @property
    def reviewed(self) -> bool:
        return self.outcome is not None

    @property
    def asks(self) -> list[str]:
        """What the subject asks, in the order of Art. 22(3)."""
        return [k for k in ("human_intervention", "express_view", "contest") if getattr(self, k)]


def request_of(case) -> AutomatedDecisionRequest | None:
    """The case's Art. 22 request, if it has one (here, not in operations: texts and letters read it too)."""
    return db.session.execute(sa.select(AutomatedDecisionRequest)
                              .where(AutomatedDecisionRequest.case_id == case.id)).scalar_one_or_none()
