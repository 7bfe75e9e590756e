"""Users and their API tokens. Passwords are hashed with Werkzeug (scrypt); tokens are stored as SHA-256."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.auth.roles import WRITERS
from dsr.domain.enums import Role
from dsr.extensions import UTCDateTime, db, enum_column_type


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(enum_column_type(Role, "user_role"))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    locale: Mapped[str] = mapped_column(sa.String(5), default="en", server_default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A password set by someone else in the interface (a manager's new user or reset) must be replaced by the
    # user at their next login: nobody but the user knows the password that signs their work.
    must_change_password: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # TOTP second factor (dsr/auth/totp.py): the shared secret (base32), set when the user enrols and in
    # force once confirmed with a first code; the last time step used, so a code is accepted only once.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                  foreign_keys="ApiToken.user_id")

    __table_args__ = (sa.CheckConstraint("locale IN ('en', 'nl', 'fr')", name="locale"),)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def can_write(self) -> bool:
        """The auditor reads everything and changes nothing."""
        return self.role in WRITERS

    @property
    def is_manager(self) -> bool:
        return self.role is Role.PRIVACY_MANAGER

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The first characters, so a person can tell tokens apart without the secret being stored.
    prefix: Mapped[str] = mapped_column(sa.String(12))
    name: Mapped[str] = mapped_column(sa.String(100), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # No expiry only for tokens issued before expiries existed; every new token has one.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_only: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(back_populates="tokens", foreign_keys=[user_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    def usable(self, now: datetime) -> bool:
        return token_usable(self.revoked_at, self.expires_at, now)


def token_usable(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> bool:
    """Whether a token is usable at ``now``: not revoked, not expired."""
    return revoked_at is None and (expires_at is None or now < expires_at)


class UserSession(db.Model):
    """A login, kept on the server: the cookie carries only its random id, whose SHA-256 is stored here.

    A session counts only while its row says so, in whichever process serves the request: logout, a
    deactivation or a new password set ``ended_at``, and a cookie copied before then is worth nothing.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # logout, expired, deactivated, password_changed, password_reset
    end_reason: Mapped[str | None] = mapped_column(sa.String(30))
    address: Mapped[str | None] = mapped_column(sa.String(64))

    user: Mapped[User] = relationship()


class LoginAttempt(db.Model):
    """Every login, failed or successful: who (the e-mail as typed, and the account if there is one), when
    and from where. Privacy managers read them on the users page."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    succeeded: Mapped[bool] = mapped_column(sa.Boolean)
    # ok, bad_credentials, inactive, throttled, must_change_password
    outcome: Mapped[str] = mapped_column(sa.String(30))
    address: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))

    user: Mapped[User | None] = relationship()


class RecoveryCode(db.Model):
    """A one-time code that stands in for the TOTP code (a lost phone). Stored as its SHA-256 only."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
