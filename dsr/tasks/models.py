"""Free-text notes (escaped wherever shown) and tasks with an assignee and a due date."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import UTCDateTime, db


class CaseNote(db.Model):
    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    author: Mapped[User | None] = relationship()  # noqa: F821


class CaseTask(db.Model):
    __tablename__ = "case_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    # As typed, or for a task dsr created the English form of its title; such a task also has a ``kind`` and
    # ``params``, from which pages write the title in the reader's language (dsr.tasks.titles).
    title: Mapped[str] = mapped_column(sa.String(300))
    kind: Mapped[str | None] = mapped_column(sa.String(40))
    params: Mapped[dict | None] = mapped_column(sa.JSON(none_as_null=True))
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])  # noqa: F821
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])  # noqa: F821

    __table_args__ = (sa.CheckConstraint("length(title) > 0", name="title_not_empty"),
                      sa.CheckConstraint("(kind IS NULL) = (params IS NULL)", name="kind_with_params"))

    @property
    def is_open(self) -> bool:
        return self.done_at is None

    @property
    def display_title(self) -> str:
        """The title in the reader's language (an automatic task) or as typed."""
        from dsr.tasks.titles import task_title

        return task_title(self)
