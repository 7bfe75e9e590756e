"""TOTP second factor (RFC 6238, with pyotp) and its recovery codes.

Which roles must use it is a setting (``MFA_REQUIRED_ROLES``; privacy managers by default in production).
A user of such a role who has not enrolled yet is sent to enrol right after the password, before anything
else. Codes are accepted once (the last time step used is kept) and one step either side of now, for clocks
that drift. Recovery codes are random, shown once, stored as SHA-256 and each usable once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import pyotp
import sqlalchemy as sa
from flask import current_app

from dsr.audit.operations import record
from dsr.auth.models import RecoveryCode, User
from dsr.extensions import db

ISSUER = "dsr"
RECOVERY_CODES = 10


def mfa_required(user: User) -> bool:
    return user.role.value in current_app.config.get("MFA_REQUIRED_ROLES", ())


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _step(moment: datetime) -> int:
    return int(moment.timestamp()) // 30


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    for offset in (0, -1, 1):
        step = _step(now) + offset
        if secrets.compare_digest(totp.at(step * 30), code):
            return step
    return None


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().replace(" ", "").replace("-", "").lower().encode()).hexdigest()


def _new_recovery_codes(user: User, now: datetime) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["-".join(secrets.token_hex(3) for _ in range(2)) for _ in range(RECOVERY_CODES)]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash(code), created_at=now))
    return codes


def enable(user: User, secret: str, code: str, *, now: datetime) -> list[str] | None:
    """Turn TOTP on with the first code from the user's app; the recovery codes (shown once), or ``None``
    when the code does not match."""
    step = _matching_step(secret, code, now)
    if step is None:
        return None
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = secret, now, step
    codes = _new_recovery_codes(user, now)
    record("user.totp_enabled", actor=user, now=now, after={"email": user.email})
    return codes


def disable(user: User, *, actor: User | None, now: datetime) -> None:
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record("user.totp_disabled", actor=actor, now=now, after={"email": user.email})


def verify(user: User, code: str, *, now: datetime) -> str | None:
    """Check a TOTP code or a recovery code for ``user``: ``"totp"``, ``"recovery"`` or ``None``.

    A TOTP code is good once (a step at or before the last one used is refused); a recovery code once."""
    if not user.totp_enabled_at or not user.totp_secret:
        return None
    step = _matching_step(user.totp_secret, code, now)
    if step is not None:
        if user.totp_last_step is not None and step <= user.totp_last_step:
            return None
        user.totp_last_step = step
        return "totp"
    row = db.session.execute(sa.select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(code or ""),
        RecoveryCode.used_at.is_(None))).scalar_one_or_none()
    if row is None:
        return None
    row.used_at = now
    record("user.recovery_code_used", actor=user, now=now, after={"email": user.email})
    return "recovery"


def recovery_codes_left(user: User) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).scalar_one()
