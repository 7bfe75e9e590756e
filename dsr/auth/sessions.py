"""Server-side sessions: a login is a row in ``user_sessions``; the signed cookie carries only its id.

Every process (several gunicorn workers, a second host) reads the same rows, so ending a session here ends
it everywhere: logout, deactivation, a changed or reset password. A session also ends after
``SESSION_IDLE_MINUTES`` without a request and ``SESSION_MAX_HOURS`` after the login.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, make_transient_to_detached

from dsr.auth.models import User, UserSession
from dsr.extensions import db, read

# How stale ``last_seen_at`` may get before a request writes it again (one write a minute, not per page).
TOUCH_EVERY = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, *, now: datetime, address: str | None) -> str:
    """A new session for ``user``; the returned secret goes into the signed cookie, only its hash is stored."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user=user, token_hash=_hash(token), created_at=now, last_seen_at=now,
                               address=(address or "")[:64] or None))
    return token


def live_session(token: str | None, user_id: int, *, now: datetime, idle: timedelta,
                 max_age: timedelta) -> UserSession | None:
    """The open session with this secret for this user, or ``None`` (unknown, ended, idle or too old).

    A session found past its limits is marked ended here (the caller commits)."""
    if not token:
        return None
    row = db.session.execute(_session_with_user(), {"token_hash": _hash(token)}).scalar_one_or_none()
    if row is None or row.user_id != user_id or row.ended_at is not None:
        return None
    if now - row.last_seen_at > idle or now - row.created_at > max_age:
        row.ended_at, row.end_reason = now, "expired"
        return None
    return row


class ReadSession(NamedTuple):
    """An open session as :func:`read_session` finds it: its row's id and times, and its user."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    user: User


def read_session(token: str | None, user_id: int, *, now: datetime, idle: timedelta,
                 max_age: timedelta) -> ReadSession | None:
    """:func:`live_session` for a page that only reads (:func:`dsr.auth.access.reads_only`): the same session by
    the same checks, read as plain columns instead of as two objects in the request's session, which cost a
    queue page about a tenth of its Python (issue 15, item 3). Its ``user`` is a :class:`User` holding every
    column of its row, detached: no statement loads or refreshes it, and a relationship read from it raises
    (``DetachedInstanceError``) instead of reading; attached to a session it is that row, never a new one.

    A session found past its limits is ended by :func:`live_session`, as it ends it (the caller commits)."""
    if not token:
        return None
    row = read(_session_columns(), {"token_hash": _hash(token)}).first()
    if row is None or row.user_id != user_id or row.ended_at is not None:
        return None
    if now - row.last_seen_at > idle or now - row.created_at > max_age:
        return live_session(token, user_id, now=now, idle=idle, max_age=max_age)
    user = User.__mapper__.class_manager.new_instance()
    user.__dict__.update(zip(_user_keys(), row[_SESSION_COLUMNS:], strict=True))
    make_transient_to_detached(user)
    return ReadSession(row.id, row.created_at, row.last_seen_at, user)


def touch_session(session_id: int, now: datetime) -> None:
    """Write a session's last request time (:func:`read_session`'s sessions; an object of :func:`live_session`
    is changed in place)."""
    db.session.execute(_touched(), {"session_id": session_id, "seen": now})


_SESSION_COLUMNS = 5  # id, user_id, created_at, last_seen_at, ended_at; then the user's columns


@functools.cache
def _user_keys() -> tuple[str, ...]:
    return tuple(prop.key for prop in sa.inspect(User).column_attrs)


@functools.cache
def _session_columns() -> sa.Select:
    """The session by its secret's hash and its user's columns, as plain columns, made once per process."""
    sessions = UserSession.__table__
    users = User.__table__
    user_columns = [sa.inspect(User).get_property(key).columns[0] for key in _user_keys()]
    return (sa.select(sessions.c.id, sessions.c.user_id, sessions.c.created_at, sessions.c.last_seen_at,
                      sessions.c.ended_at, *user_columns)
            .join_from(sessions, users, users.c.id == sessions.c.user_id)
            .where(sessions.c.token_hash == sa.bindparam("token_hash")))


@functools.cache
def _touched() -> sa.Update:
    sessions = UserSession.__table__
    return (sa.update(sessions).where(sessions.c.id == sa.bindparam("session_id"))
            .values(last_seen_at=sa.bindparam("seen")))


@functools.cache
def _session_with_user() -> sa.Select:
    """The session by its secret's hash with its user in the same statement: every page needs both; made once
    per process (issue 15, item 3)."""
    return (sa.select(UserSession).where(UserSession.token_hash == sa.bindparam("token_hash"))
            .options(joinedload(UserSession.user)))


def end_session(token: str | None, *, now: datetime, reason: str = "logout") -> None:
    if not token:
        return
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )


def end_all_sessions(user: User, *, now: datetime, reason: str) -> int:
    """End every open session of ``user`` (in every process and on every device); how many were open."""
    result = db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    return result.rowcount or 0
