"""The suppression list's rows (Art. 21(3)).

* :class:`SuppressionEntry`: one identifier of someone who must not receive direct marketing, as a keyed
  hash only (:mod:`dsr.suppression.identifiers`), with its kind, when and from which case it was added.
  Never the plain value: the list is checked against, never read out.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from dsr.extensions import UTCDateTime, db, enum_column_type
from dsr.suppression.identifiers import IdentifierKind


class SuppressionReason(enum.StrEnum):
    """Why the identifier went on the list: an objection to direct marketing, or an erasure whose
    marketing rule says ``suppress: true`` (dsr/retention/rules.yml)."""

    OBJECTION = "objection"
    ERASURE = "erasure"


class SuppressionEntry(db.Model):
    """One suppressed identifier. ``(kind, digest)`` is unique, so adding one again changes nothing."""

    __tablename__ = "suppression_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[IdentifierKind] = mapped_column(enum_column_type(IdentifierKind, "suppression_kind"))
    digest: Mapped[str] = mapped_column(sa.String(64))
    # Which SUPPRESSION_SALT made the digest (a fingerprint, not the salt): see suppression.key_id.
    key_id: Mapped[str] = mapped_column(sa.String(16), index=True)
    reason: Mapped[SuppressionReason] = mapped_column(enum_column_type(SuppressionReason, "suppression_reason"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The case it was added from. A case's removal must not lift a suppression, hence SET NULL.
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="SET NULL"), index=True)

    __table_args__ = (
        sa.UniqueConstraint("kind", "digest"),
        sa.CheckConstraint("length(digest) = 64", name="digest_is_sha256"),
    )
