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

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    __table_args__ = (sa.CheckConstraint("locale IN ('en', 'nl')", name="locale"),)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")
