"""Saved views of the queue: a person's own named filters and sort order ("My overdue erasures").

A view stores the queue's query string, nothing else; it is checked by the same parser as the queue
(:class:`dsr.cases.queries.QueueFilters`) before it is kept, so a saved view always opens.
"""

from __future__ import annotations

import functools
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import MultiDict

from dsr.audit.operations import record
from dsr.auth.models import User
from dsr.cases.errors import InvalidInput, NotAllowed
from dsr.cases.queries import FilterError, QueueFilters
from dsr.extensions import UTCDateTime, db, read

NAME_MAX = 80
VIEWS_MAX = 30
# The queue's own arguments; the page number and anything else in the URL are not part of a view.
KEPT = ("q", "state", "right", "assignee", "channel", "due_within", "flag", "overdue", "priority", "sort", "dir")


class SavedView(db.Model):
    __tablename__ = "saved_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    query: Mapped[str] = mapped_column(sa.String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("user_id", "name"),
        sa.CheckConstraint("length(trim(name)) > 0", name="name_given"),
    )


def views_of(user: User) -> list[sa.Row]:
    """The user's views by name, as plain rows (``id``, ``name``, ``query``): every queue page shows them."""
    return list(read(_views_of(), {"user_id": user.id}))


@functools.cache
def _views_of() -> sa.Select:
    """The statement of :func:`views_of`, made once per process (issue 15, item 3)."""
    return (sa.select(SavedView.id, SavedView.name, SavedView.query)
            .where(SavedView.user_id == sa.bindparam("user_id")).order_by(SavedView.name))


def clean_query(raw: str) -> str:
    """The queue arguments of ``raw`` (a query string), in a fixed order; empty ones dropped."""
    pairs = [(k, v) for k, v in parse_qsl(raw.lstrip("?"), keep_blank_values=False) if k in KEPT and v.strip()]
    return urlencode(sorted(pairs, key=lambda kv: KEPT.index(kv[0])))


def save_view(user: User, name: str, query: str, *, now: datetime) -> SavedView:
    """Keep the queue's current filters and sort under a name of the user's own; the same name replaces."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(_("Give the view a name."), "name")
    if len(name) > NAME_MAX:
        raise InvalidInput(_("A view's name has at most %(n)d characters.", n=NAME_MAX), "name")
    query = clean_query(query or "")
    try:
        QueueFilters.from_args(MultiDict(parse_qsl(query)), current_user_id=user.id)
    except FilterError as exc:
        raise InvalidInput(exc.message, "query") from None
    view = db.session.execute(sa.select(SavedView).where(SavedView.user_id == user.id, SavedView.name == name)
                              ).scalar_one_or_none()
    if view is None:
        if len(views_of(user)) >= VIEWS_MAX:
            raise InvalidInput(_("At most %(n)d saved views: delete one first.", n=VIEWS_MAX), "name")
        view = SavedView(user_id=user.id, name=name, query=query, created_at=now)
        db.session.add(view)
        before = None
    else:
        before = {"query": view.query}
        view.query = query
    db.session.flush()
    record("queue_view.saved", actor=user, now=now, before=before, after={"name": name, "query": query})
    return view


def delete_view(view: SavedView, *, actor: User, now: datetime) -> None:
    if view.user_id != actor.id:
        raise NotAllowed(_("A saved view belongs to the person who saved it."))
    record("queue_view.deleted", actor=actor, now=now, before={"name": view.name, "query": view.query})
    db.session.delete(view)
