"""Creating users and API tokens, and checking credentials."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from dsr.audit.operations import record
from dsr.auth.models import ApiToken, User
from dsr.domain.enums import Role
from dsr.extensions import db

MIN_PASSWORD_LENGTH = 12
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
    email: str, *, name: str, role: Role, password: str, actor: User | None, now: datetime, locale: str = "en"
) -> User:
    """Create a user with a hashed password; the e-mail is the login and must be unique."""
    email = normalise_email(email)
    if find_user(email) is not None:
        raise UserError(_("A user with e-mail %(email)s already exists.", email=email))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(_("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    user = User(
        email=email,
        name=name or email,
        role=role,
        password_hash=generate_password_hash(password, method=_hash_method()),
        active=True,
        locale=locale,
        created_at=now,
    )
    db.session.add(user)
    db.session.flush()
    record("user.created", actor=actor, now=now, after={"email": email, "role": role, "name": user.name})
    return user


def set_active(user: User, active: bool, *, actor: User, now: datetime) -> None:
    if user.id == actor.id and not active:
        raise UserError(_("You cannot deactivate yourself."))
    if user.active == active:
        return
    user.active = active
    record("user.activated" if active else "user.deactivated", actor=actor, now=now,
           before={"email": user.email, "active": not active}, after={"email": user.email, "active": active})


def set_locale(user: User, locale: str, *, actor: User, now: datetime) -> None:
    if locale not in ("en", "nl"):
        raise UserError(_("Unknown language."))
    if user.locale != locale:
        record("user.locale_changed", actor=actor, now=now, before={"locale": user.locale}, after={"locale": locale})
        user.locale = locale


def _hash_method() -> str:
    """Werkzeug's default (scrypt) unless configured otherwise; the test suite uses a cheap one."""
    from flask import current_app, has_app_context

    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"


def authenticate(email: str, password: str) -> User | None:
    """The user if the e-mail and password match an active account; ``None`` otherwise, never saying which."""
    user = find_user(email or "")
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    return user


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(user: User, *, actor: User | None, now: datetime) -> str:
    """A new bearer token for ``user``. Only its SHA-256 is stored; the token is shown once."""
    token = "dsr_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=hash_token(token), prefix=token[:12], created_at=now))
    record("api_token.issued", actor=actor, now=now, after={"user": user.email, "prefix": token[:12]})
    return token


def user_for_token(token: str, *, now: datetime) -> User | None:
    row = db.session.execute(
        sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if row is None or not row.user.active:
        return None
    return row.user
