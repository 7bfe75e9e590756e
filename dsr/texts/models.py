"""Texts for the subject and the privacy managers' library of standard paragraphs (issue 14, item 2).

A letter quotes reasons, justifications and requests that a person wrote: the refusal's justification, the
reason for an extension, the information asked for, why a correction was refused, the outcome of an
objection's balancing, the basis of a fee, why a restriction is lifted, the automated decision concerned,
the subject's view of it and the outcome of its review, why the privacy manager keeps a record the subject
asked to erase. Staff notes (``Case.decision``, ``CasePause.reason``,
``Correction.reason``, ...) are the case file's internal record, often in English, and are never printed.
What the letter quotes is a :class:`SubjectText`: one per case, purpose, item and language, entered in the
letter's language. ``item_id`` names the row a text belongs to when a case can have several (the pause for
an information request, the refused correction, the objection decided, the erasure plan's kept item); 0 when
the case has one.

:class:`StandardParagraph` is the library a privacy manager keeps per purpose and language, to choose from
and adapt; a paragraph is copied into a case's text, never linked (a later edit of the library must not
change what a case said).
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import UTCDateTime, db, enum_column_type


class TextPurpose(enum.StrEnum):
    REFUSAL = "refusal"  # the refusal's justification (Art. 12(4))
    PARTIAL_REFUSAL = "partial_refusal"  # the reasons for refusing part of the request
    EXTENSION = "extension"  # the reason for extending the deadline (Art. 12(3))
    INFORMATION_REQUEST = "information_request"  # what is asked for (one per pause)
    CORRECTION_REFUSAL = "correction_refusal"  # why a correction is not made (one per correction)
    OBJECTION_OUTCOME = "objection_outcome"  # the outcome of the balancing (one per objection)
    FEE_BASIS = "fee_basis"  # why the fee for a further copy is reasonable (Art. 15(3))
    RESTRICTION_LIFT = "restriction_lift"  # why the restriction is lifted, told beforehand (Art. 18(3))
    AUTOMATED_DECISION = "automated_decision"  # the automated decision the request is about (Art. 22)
    AUTOMATED_VIEW = "automated_view"  # the subject's view, as the letter restates it (Art. 22(3))
    AUTOMATED_OUTCOME = "automated_outcome"  # the outcome of the human review (Art. 22(3))
    ERASURE_KEPT = "erasure_kept"  # why a record is kept by the privacy manager's decision (one per plan item)
    AUTOMATED_REVIEWER = "automated_reviewer"  # who reviewed the automated decision, name and function (Art. 22(3))
    NOTICE_NOT_MADE = "notice_not_made"  # why a recipient was not told of the change (Art. 19; one per notice)


TEXT_LANGUAGES = ("nl", "en", "fr")
BODY_MAX = 5000


class SubjectText(db.Model):
    __tablename__ = "subject_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TextPurpose] = mapped_column(enum_column_type(TextPurpose, "text_purpose"))
    item_id: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    language: Mapped[str] = mapped_column(sa.String(2))
    body: Mapped[str] = mapped_column(sa.Text)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship()  # noqa: F821
    author: Mapped[User | None] = relationship()  # noqa: F821

    __table_args__ = (
        sa.UniqueConstraint("case_id", "purpose", "item_id", "language"),
        sa.CheckConstraint("language IN ('nl', 'en', 'fr')", name="language_known"),
        sa.CheckConstraint("length(trim(body)) > 0", name="body_given"),
    )


class StandardParagraph(db.Model):
    __tablename__ = "standard_paragraphs"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[TextPurpose] = mapped_column(enum_column_type(TextPurpose, "text_purpose"))
    language: Mapped[str] = mapped_column(sa.String(2))
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("purpose", "language", "title"),
        sa.CheckConstraint("language IN ('nl', 'en', 'fr')", name="language_known"),
        sa.CheckConstraint("length(trim(body)) > 0", name="body_given"),
        sa.CheckConstraint("length(trim(title)) > 0", name="title_given"),
    )
