"""An issued letter: the PDF as sent, its SHA-256, and who issued it when. Never changed after it is made.

A letter is evidence of what the subject was told and when (Art. 5(2), accountability). The row and the
file are written once, by the letter job (:mod:`dsr.letters.operations`); a re-issue is a new row with the
next ``version`` for the same case and kind. There is no update path: the ORM refuses to flush a change to
an issued letter (:func:`_refuse_changes`), and the stored file is made read-only.

``job_id`` is unique: a retried letter job finds the letter it already made instead of making another.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import UTCDateTime, db, enum_column_type
from dsr.letters.kinds import LetterKind, LetterLanguage


class IssuedLetter(db.Model):
    __tablename__ = "issued_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    kind: Mapped[LetterKind] = mapped_column(enum_column_type(LetterKind, "letter_kind"))
    language: Mapped[LetterLanguage] = mapped_column(enum_column_type(LetterLanguage, "letter_language"))
    version: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column(sa.Integer)
    pages: Mapped[int] = mapped_column(sa.Integer)
    # Relative to STORAGE_DIR, under letters/.
    storage_key: Mapped[str] = mapped_column(sa.String(300), unique=True)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    job_id: Mapped[int] = mapped_column(sa.ForeignKey("jobs.id"), unique=True)

    case: Mapped[Case] = relationship()  # noqa: F821
    issued_by: Mapped[User | None] = relationship()  # noqa: F821
    job: Mapped[Job] = relationship()  # noqa: F821

    __table_args__ = (
        sa.UniqueConstraint("case_id", "kind", "version"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.CheckConstraint("length(sha256) = 64", name="sha256_length"),
        sa.CheckConstraint("size > 0 AND pages > 0", name="not_empty"),
        sa.CheckConstraint("storage_key LIKE 'letters/%'", name="stored_under_letters"),
    )

    @property
    def download_name(self) -> str:
        return f"{self.case.reference}-{self.kind.value}-v{self.version}-{self.language.value}.pdf"

    def __repr__(self) -> str:
        return f"<IssuedLetter {self.case_id} {self.kind} v{self.version} {self.language}>"


class ImmutableLetter(RuntimeError):
    """Something tried to change an issued letter; re-issue it instead (a new version)."""


@sa.event.listens_for(IssuedLetter, "before_update")
def _refuse_changes(mapper, connection, target: IssuedLetter) -> None:
    raise ImmutableLetter(f"issued letter {target.id} cannot be changed; issue a new version instead")
