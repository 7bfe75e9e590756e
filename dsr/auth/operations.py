"""Creating users and API tokens, and checking credentials."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from dsr.audit.operations import record
from dsr.auth.models import ApiToken, LoginAttempt, User, token_usable
from dsr.auth.passwords import MIN_PASSWORD_LENGTH, password_problem
from dsr.auth.sessions import end_all_sessions, end_session
from dsr.domain.enums import Role
from dsr.extensions import db, read

__all__ = ["MIN_PASSWORD_LENGTH", "UserError"]
# A real hash to compare against when the e-mail is unknown, so both paths cost the same time.
_DUMMY_HASH = generate_password_hash("not-a-password-" + secrets.token_hex(8))


class UserError(ValueError):
    """A user could not be created or changed; the message says why."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.execute(
        sa.select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()


def create_user(
    email: str, *, name: str, role: Role, password: str, actor: User | None, now: datetime, locale: str = "en",
    must_change_password: bool = False,
) -> User:
    """Create a user with a hashed password; the e-mail is the login and must be unique.

    ``must_change_password``: the password was chosen by someone else (a manager in the interface), so the
    user replaces it at the first login. At the server's console the operator gives the user's own."""
    email = normalise_email(email)
    if find_user(email) is not None:
        raise UserError(_("A user with e-mail %(email)s already exists.", email=email))
    _check_password(password)
    user = User(
        email=email,
        name=name or email,
        role=role,
        password_hash=generate_password_hash(password, method=_hash_method()),
        active=True,
        locale=locale,
        created_at=now,
        must_change_password=must_change_password,
        password_changed_at=now,
    )
    db.session.add(user)
    db.session.flush()
    record("user.created", actor=actor, now=now, after={"email": email, "role": role, "name": user.name,
                                                        "must_change_password": must_change_password})
    return user


def _check_password(password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise UserError(problem)


def set_active(user: User, active: bool, *, actor: User, now: datetime) -> None:
    """Activate or deactivate ``user``; a deactivation ends every session the user has open."""
    if user.id == actor.id and not active:
        raise UserError(_("You cannot deactivate yourself."))
    if user.active == active:
        return
    user.active = active
    if not active:
        end_all_sessions(user, now=now, reason="deactivated")
    record("user.activated" if active else "user.deactivated", actor=actor, now=now,
           before={"email": user.email, "active": not active}, after={"email": user.email, "active": active})


def change_own_password(user: User, current: str, new: str, *, now: datetime) -> None:
    """The user replaces their password, giving the current one; every session of theirs ends (the caller
    starts a new one for the browser that asked)."""
    if not check_password_hash(user.password_hash, current or ""):
        raise UserError(_("The current password is not correct."))
    if check_password_hash(user.password_hash, new):
        raise UserError(_("The new password must differ from the current one."))
    _check_password(new)
    was_forced = user.must_change_password
    user.password_hash = generate_password_hash(new, method=_hash_method())
    user.must_change_password = False
    user.password_changed_at = now
    ended = end_all_sessions(user, now=now, reason="password_changed")
    record("user.password_changed", actor=user, now=now,
           after={"email": user.email, "was_required": was_forced, "sessions_ended": ended})


def reset_password(user: User, new: str, *, actor: User | None, now: datetime, must_change: bool) -> None:
    """Set ``user``'s password for them and end every session of theirs.

    From the interface (a privacy manager) ``must_change`` is true: the manager knows the password, so the
    user must replace it at the next login. At the console the operator gives the user's own password."""
    _check_password(new)
    user.password_hash = generate_password_hash(new, method=_hash_method())
    user.must_change_password = must_change
    user.password_changed_at = now
    ended = end_all_sessions(user, now=now, reason="password_reset")
    record("user.password_reset", actor=actor, now=now,
           after={"email": user.email, "must_change_password": must_change, "sessions_ended": ended})


def record_login_attempt(email: str, user: User | None, *, outcome: str, now: datetime,
                         address: str | None, user_agent: str | None) -> None:
    """Keep who tried to log in, when, from where and how it went (every try, failed or not)."""
    db.session.add(LoginAttempt(at=now, email=(email or "").strip().lower()[:254], user=user,
                                succeeded=outcome == "ok", outcome=outcome, address=(address or "")[:64] or None,
                                user_agent=(user_agent or "")[:300] or None))


def record_login(user: User, *, now: datetime) -> None:
    """The session has begun (password, second factor or sign-on): on the audit trail."""
    record("user.logged_in", actor=user, now=now)


def log_out(user: User, session_token: str | None, *, now: datetime) -> None:
    """End the user's server-side session and put the logout on the audit trail."""
    record("user.logged_out", actor=user, now=now)
    end_session(session_token, now=now, reason="logout")


def sign_on_account(email: str, *, name: str | None, role: Role, now: datetime) -> User:
    """The account of a person the OpenID provider vouched for (``email`` normalised, ``role`` from its claim):
    made on the first sign-on, with an unusable password; an existing account's role follows the claim.
    Both are audited, with no actor: the provider decided. Whether the account is active is the caller's check."""
    user = find_user(email)
    if user is None:
        user = User(email=email, name=(name or email)[:200], role=role, active=True, locale="en",
                    password_hash=generate_password_hash(secrets.token_urlsafe(32)), created_at=now,
                    must_change_password=False)
        db.session.add(user)
        db.session.flush()
        record("user.created", actor=None, now=now,
               after={"email": email, "role": role, "name": user.name, "via": "sign-on"})
    elif user.active and user.role is not role:
        record("user.role_changed", actor=None, now=now, before={"email": email, "role": user.role},
               after={"email": email, "role": role, "via": "sign-on"})
        user.role = role
    return user


def set_locale(user: User, locale: str, *, actor: User, now: datetime) -> None:
    if locale not in ("en", "nl", "fr"):
        raise UserError(_("Unknown language."))
    if user.locale != locale:
        record("user.locale_changed", actor=actor, now=now, before={"locale": user.locale}, after={"locale": locale})
        user.locale = locale


def _hash_method() -> str:
    """Werkzeug's default (scrypt) unless configured otherwise; the test suite uses a cheap one."""
    from flask import current_app, has_app_context

    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"


def check_credentials(email: str, password: str) -> tuple[User | None, str]:
    """The account the e-mail names (if any) and the outcome: ``ok``, ``bad_credentials`` or ``inactive``.

    The caller shows one message for every failure; the outcome is for the login record only."""
    user = find_user(email or "")
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None, "bad_credentials"
    if not check_password_hash(user.password_hash, password or ""):
        return user, "bad_credentials"
    if not user.active:
        return user, "inactive"
    return user, "ok"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 366


def issue_api_token(user: User, *, actor: User | None, now: datetime, name: str = "", days: int = DEFAULT_TOKEN_DAYS,
                    read_only: bool = False) -> str:
    """A new bearer token for ``user``, valid for ``days`` days. Only its SHA-256 is stored; the token is
    shown once. A read-only token reads what the user may read and changes nothing."""
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise UserError(_("A token is valid for 1 to %(n)d days.", n=MAX_TOKEN_DAYS))
    name = (name or "").strip()[:100] or _("API token")
    token = "dsr_" + secrets.token_urlsafe(32)
    expires = now + timedelta(days=days)
    db.session.add(ApiToken(user=user, token_hash=hash_token(token), prefix=token[:12], name=name, created_at=now,
                            expires_at=expires, read_only=read_only))
    record("api_token.issued", actor=actor, now=now,
           after={"user": user.email, "prefix": token[:12], "name": name, "expires_at": expires.isoformat(),
                  "read_only": read_only})
    return token


def revoke_api_token(token: ApiToken, *, actor: User, now: datetime) -> None:
    """Revoke a token: its owner may, and so may a privacy manager."""
    if token.user_id != actor.id and not actor.is_manager:
        raise UserError(_("Only the token's owner or a privacy manager may revoke it."))
    if token.revoked_at is not None:
        return
    token.revoked_at = now
    token.revoked_by = actor
    record("api_token.revoked", actor=actor, now=now,
           after={"user": token.user.email, "prefix": token.prefix, "name": token.name})


LAST_USE_STEP = timedelta(minutes=1)


class TokenUse(NamedTuple):
    """A usable bearer token as a request needs it: whose, with which role, read-only or not."""

    token_id: int
    user_id: int
    role: Role
    read_only: bool
    # Whether this request wrote its last use (to be committed before the request's own transaction).
    touched: bool
    # The user as an object, when asked for (a write needs it as its actor; a read only the id and role).
    user: User | None = None
    # The values of the ``also`` columns asked for beside the token (see :func:`token_for_secret`).
    also: tuple = ()
    # The user's e-mail address, what an audit event names its actor by (:class:`Actor`).
    email: str = ""


class Actor(NamedTuple):
    """Who does an operation, as its audit events and the rows it writes name them: the id and the e-mail
    address of a token's user, read as plain columns with the token. For a write that needs nothing else of
    its user (a case's creation through the API): loading the user as an object in the session cost it 216
    of its 7,694 Python calls and 2 % of its instructions (issue 15, item 3)."""

    id: int
    email: str


@functools.cache
def _token_query(with_user: bool, also: tuple) -> sa.Select:
    # The token and its user in one statement, every API request runs it (issue 15, item 3): plain columns
    # for a read and for a write that names its actor only (:class:`Actor`), the user as an object for others.
    tokens, users = ApiToken.__table__, User.__table__
    user = (User,) if with_user else (users.c.role, users.c.active, users.c.email)
    return (sa.select(tokens.c.id, tokens.c.user_id, tokens.c.revoked_at, tokens.c.expires_at, tokens.c.read_only,
                      tokens.c.last_used_at, *user, *also)
            .select_from(tokens.join(users, users.c.id == tokens.c.user_id))
            .where(tokens.c.token_hash == sa.bindparam("token_hash")))


def token_for_secret(token: str, *, now: datetime, with_user: bool = False, also: tuple = ()) -> TokenUse | None:
    """The usable token for a bearer secret (not revoked, not expired, of an active user), its last use
    recorded to the minute (a client sending a hundred requests a second does not write the row each
    time); ``None`` otherwise. ``with_user``: with its user as an object. ``also``: scalar sub-queries read
    in the same statement (one round trip less for what every request reads anyway), their values in
    :attr:`TokenUse.also`; the same tuple each time, so the statement is made once."""
    # Plain columns read on the session's connection (dsr.extensions.read), past the ORM's execution layers.
    query, params = _token_query(with_user, also), {"token_hash": hash_token(token)}
    row = (db.session.execute(query, params) if with_user else read(query, params)).first()
    if row is None:
        return None
    user = row.User if with_user else None
    role, active = (user.role, user.active) if with_user else (row.role, row.active)
    if not token_usable(row.revoked_at, row.expires_at, now) or not active:
        return None
    touched = row.last_used_at is None or not timedelta(0) <= now - row.last_used_at < LAST_USE_STEP
    if touched:
        tokens = ApiToken.__table__
        db.session.execute(sa.update(tokens).where(tokens.c.id == row.id).values(last_used_at=now))
    return TokenUse(row.id, row.user_id, role, row.read_only, touched, user, tuple(row[len(row) - len(also):]),
                    user.email if with_user else row.email)


