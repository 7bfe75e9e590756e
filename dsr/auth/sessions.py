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

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from dsr.auth.models import User, UserSession
from dsr.extensions import db

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
