"""Configuration from the environment, with embedded defaults.

Embedded default (no variables set): SQLite under ``instance/``, no Redis (jobs run in-process),
files under ``instance/storage`` and a secret key generated once and kept in ``instance/secret_key``.
Production (``DSR_ENV=production``): ``SECRET_KEY`` must be given; the app refuses to start otherwise.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_INSTANCE = BASE_DIR / "instance"


def normalise_database_url(url: str) -> str:
    """Accept the ``postgres://`` and ``postgresql://`` forms and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _persistent_secret_key(instance_path: Path) -> str:
    """A random key generated on first start and kept, so sessions survive restarts in local use."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the app may start with."""


def from_environment(instance_path: Path, env: dict[str, str] | None = None) -> dict:
    """Build the Flask configuration mapping from ``env`` (default: ``os.environ``)."""
    env = dict(os.environ if env is None else env)
    production = env.get("DSR_ENV", "development").lower() == "production"

    secret_key = env.get("SECRET_KEY")
    if not secret_key:
        if production:
            raise ConfigError("DSR_ENV=production needs an explicit SECRET_KEY; refusing to start.")
        secret_key = _persistent_secret_key(instance_path)

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'dsr.sqlite3'}"
    storage_dir = Path(env.get("STORAGE_DIR") or instance_path / "storage")

    return {
        "DSR_ENV": "production" if production else "development",
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": env.get("REDIS_URL") or None,
        "STORAGE_DIR": str(storage_dir),
        "DEMO_SYSTEMS_URL": env.get("DEMO_SYSTEMS_URL") or f"sqlite:///{instance_path / 'harmony.sqlite3'}",
        "DEMO_SYSTEMS_CUSTOMERS": int(env.get("DSR_DEMO_CUSTOMERS", "2000")),
        # Uploads: scanned letters are at most 10 MB, checked per file with a field error that keeps the
        # form. Requests beyond 32 MB are cut off before they are read (413), as a guard, not a check.
        "MAX_ATTACHMENT_BYTES": 10 * 1024 * 1024,
        "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Amsterdam",
        "BOOTSTRAP_SERVE_LOCAL": True,
        "DSR_TIMEZONE": env.get("DSR_TIMEZONE", "Europe/Amsterdam"),
        "QUEUE_PAGE_SIZE": 25,
        "DUE_SOON_DAYS": 7,
        # A pause counts only when the information was asked for within this many working days.
        "PAUSE_ASK_WORKING_DAYS": int(env.get("DSR_PAUSE_ASK_WORKING_DAYS", "5")),
    }
