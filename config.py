"""Configuration from the environment, with embedded defaults.

Embedded default (no variables set): SQLite under ``instance/``, no Redis (jobs run in-process),
files under ``instance/storage`` and a secret key generated once and kept in ``instance/secret_key``.
Production (``DSR_ENV=production``): ``SECRET_KEY`` must be given; the app refuses to start otherwise.
The same holds for ``SUPPRESSION_SALT`` (embedded default: generated once into ``instance/suppression_salt``).
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


def _persistent_secret_key(instance_path: Path, name: str = "secret_key") -> str:
    """A random key generated on first start and kept, so sessions survive restarts in local use."""
    path = instance_path / name
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


def _book_year_end(text: str) -> str:
    """``DSR_BOOK_YEAR_END`` checked at start-up: a wrong value would date every fiscal record wrongly."""
    from dsr.domain.retention_rules import BookYear

    try:
        return BookYear.parse(text).text
    except ValueError as exc:
        raise ConfigError(f"DSR_BOOK_YEAR_END: {exc}") from None


def _storage(env: dict[str, str]) -> dict:
    """Where dsr's own files go (dsr/filestore, docs/deploy.md): ``local`` (STORAGE_DIR) or ``s3``, a bucket of
    any S3-compatible store. Credentials are boto3's (AWS_ACCESS_KEY_ID, a profile, a role), never kept here."""
    backend = env.get("DSR_STORAGE", "local").strip().lower() or "local"
    if backend not in ("local", "s3"):
        raise ConfigError("DSR_STORAGE must be 'local' (files under STORAGE_DIR) or 's3' (an S3-compatible bucket).")
    bucket = env.get("DSR_S3_BUCKET", "").strip()
    if backend == "s3" and not bucket:
        raise ConfigError("DSR_STORAGE=s3 needs DSR_S3_BUCKET, the bucket dsr's files are kept in.")
    encryption = env.get("DSR_S3_SSE", "").strip() or None
    if encryption not in (None, "AES256", "aws:kms", "aws:kms:dsse"):
        raise ConfigError("DSR_S3_SSE must be empty (the bucket's default), 'AES256' or 'aws:kms'.")
    addressing = env.get("DSR_S3_ADDRESSING_STYLE", "auto").strip().lower()
    if addressing not in ("auto", "path", "virtual"):
        raise ConfigError("DSR_S3_ADDRESSING_STYLE must be 'auto', 'path' or 'virtual'.")
    return {
        "STORAGE_BACKEND": backend,
        "S3_BUCKET": bucket or None,
        "S3_PREFIX": env.get("DSR_S3_PREFIX", "").strip("/ "),
        "S3_ENDPOINT_URL": env.get("DSR_S3_ENDPOINT_URL") or None,
        "S3_REGION": env.get("DSR_S3_REGION") or None,
        "S3_ADDRESSING_STYLE": addressing,
        "S3_ENCRYPTION": encryption,
        "S3_KMS_KEY_ID": env.get("DSR_S3_KMS_KEY_ID") or None,
        # A versioned bucket keeps a deleted object as a noncurrent version: with this set, every delete
        # (an erasure, an expiry, a case file's reduction) removes all versions of the key.
        "S3_DELETE_VERSIONS": env.get("DSR_S3_DELETE_VERSIONS", "").strip().lower() in ("1", "true", "yes"),
        "S3_MULTIPART_BYTES": int(env.get("DSR_S3_MULTIPART_BYTES", str(64 * 1024 * 1024))),
    }


def from_environment(instance_path: Path, env: dict[str, str] | None = None) -> dict:
    """Build the Flask configuration mapping from ``env`` (default: ``os.environ``)."""
    env = dict(os.environ if env is None else env)
    production = env.get("DSR_ENV", "development").lower() == "production"

    secret_key = env.get("SECRET_KEY")
    if not secret_key:
        if production:
            raise ConfigError("DSR_ENV=production needs an explicit SECRET_KEY; refusing to start.")
        secret_key = _persistent_secret_key(instance_path)

    # The key of the marketing suppression list's HMACs (dsr/suppression/identifiers.py). Separate from
    # SECRET_KEY, which may be rotated; this one must not change, or every entry stops matching.
    suppression_salt = env.get("SUPPRESSION_SALT")
    if not suppression_salt:
        if production:
            raise ConfigError("DSR_ENV=production needs an explicit SUPPRESSION_SALT (the key of the marketing "
                              "suppression list; keep it, changing it empties the list); refusing to start.")
        suppression_salt = _persistent_secret_key(instance_path, "suppression_salt")
    elif len(suppression_salt) < 16:
        raise ConfigError("SUPPRESSION_SALT must be at least 16 characters (use a random value).")

    # How "extended by two further months" (Art. 12(3)) is counted: an open point (README, "Deadlines").
    extended_rule = env.get("DSR_EXTENDED_DEADLINE_RULE", "earlier").strip().lower()
    if extended_rule not in ("earlier", "three_months"):
        raise ConfigError("DSR_EXTENDED_DEADLINE_RULE must be 'earlier' (the earlier of receipt + 3 months and the "
                          "end of the first month + 2 months) or 'three_months' (receipt + 3 months).")

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'dsr.sqlite3'}"
    storage_dir = Path(env.get("STORAGE_DIR") or instance_path / "storage")
    storage = _storage(env)

    return {
        "DSR_ENV": "production" if production else "development",
        "SECRET_KEY": secret_key,
        "SUPPRESSION_SALT": suppression_salt,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        # No pool_pre_ping: dsr.extensions.ping_on_checkout checks a pooled connection without a round trip
        # unless it sat idle or its socket says something happened.
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "REDIS_URL": env.get("REDIS_URL") or None,
        # Background jobs (dsr/jobs): the RQ queue's name, a job's time limit, and when a job still
        # "running" is taken for dead (its worker was killed) and may be retried.
        "RQ_QUEUE": env.get("DSR_RQ_QUEUE", "dsr"),
        "JOB_TIMEOUT_SECONDS": int(env.get("DSR_JOB_TIMEOUT_SECONDS", "900")),
        "JOB_STALE_AFTER_SECONDS": int(env.get("DSR_JOB_STALE_AFTER_SECONDS", "1800")),
        # A worker told to stop (SIGTERM) lets its running job finish for this long, then puts it back on the
        # queue: inside systemd's TimeoutStopSec=10 of docs/deploy.md.
        "WORKER_STOP_GRACE_SECONDS": float(env.get("DSR_WORKER_STOP_GRACE_SECONDS", "7")),
        "STORAGE_DIR": str(storage_dir),
        **storage,
        "DEMO_SYSTEMS_URL": env.get("DEMO_SYSTEMS_URL") or f"sqlite:///{instance_path / 'harmony.sqlite3'}",
        "DEMO_SYSTEMS_CUSTOMERS": int(env.get("DSR_DEMO_CUSTOMERS", "2000")),
        # Where the source systems keep stored objects (a call's audio at storage_uri): erasing a record
        # deletes its objects there (dsr/datamap/objects.py). "local" is a directory playing the object store.
        "OBJECT_STORE": env.get("DSR_OBJECT_STORE", "local"),
        "OBJECT_STORE_DIR": env.get("DSR_OBJECT_STORE_DIR") or str(instance_path / "object-store"),
        # Uploads: scanned letters are at most 10 MB, checked per file with a field error that keeps the
        # form. Requests beyond 32 MB are cut off before they are read (413), as a guard, not a check.
        "MAX_ATTACHMENT_BYTES": 10 * 1024 * 1024,
        "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
        # Sessions live on the server (dsr/auth/sessions.py): they end at logout, after this many minutes
        # without a request, and this many hours after the login, whatever the cookie says.
        "SESSION_IDLE_MINUTES": int(env.get("DSR_SESSION_IDLE_MINUTES", "120")),
        "SESSION_MAX_HOURS": int(env.get("DSR_SESSION_MAX_HOURS", "12")),
        # Failed logins per account and per address (Flask-Limiter); counted in Redis when REDIS_URL is set,
        # so that every process counts the same tries, in memory otherwise (the embedded default).
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or env.get("REDIS_URL") or "memory://",
        "RATELIMIT_KEY_PREFIX": "dsr",
        "RATELIMIT_HEADERS_ENABLED": False,
        "LOGIN_LIMIT_ACCOUNT": env.get("DSR_LOGIN_LIMIT_ACCOUNT", "5 per 15 minutes"),
        "LOGIN_LIMIT_ADDRESS": env.get("DSR_LOGIN_LIMIT_ADDRESS", "30 per 15 minutes"),
        # Roles that must log in with a TOTP code besides the password (comma-separated role names);
        # privacy managers by default in production, nobody by default in the embedded setup.
        "MFA_REQUIRED_ROLES": tuple(r.strip() for r in env.get(
            "DSR_MFA_REQUIRED_ROLES", "privacy_manager" if production else "").split(",") if r.strip()),
        # Sign-on through OpenID Connect (dsr/auth/oidc.py); off unless OIDC_ISSUER and OIDC_CLIENT_ID are set.
        "OIDC_ISSUER": env.get("OIDC_ISSUER") or None,
        "OIDC_CLIENT_ID": env.get("OIDC_CLIENT_ID") or None,
        "OIDC_CLIENT_SECRET": env.get("OIDC_CLIENT_SECRET") or None,
        "OIDC_SCOPES": env.get("OIDC_SCOPES", "openid email profile"),
        "OIDC_ROLE_CLAIM": env.get("OIDC_ROLE_CLAIM", "dsr_role"),
        "OIDC_ROLE_MAP": env.get("OIDC_ROLE_MAP", ""),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "en",
        # Times on screen are local times of the organisation (dsr.timeutil.format_moment).
        "BABEL_DEFAULT_TIMEZONE": env.get("DSR_TIMEZONE", "Europe/Amsterdam"),
        "BOOTSTRAP_SERVE_LOCAL": True,
        "DSR_TIMEZONE": env.get("DSR_TIMEZONE", "Europe/Amsterdam"),
        "QUEUE_PAGE_SIZE": 25,
        "DUE_SOON_DAYS": 7,
        "EXTENDED_DEADLINE_RULE": extended_rule,
        # A pause counts only when the information was asked for within this many working days.
        "PAUSE_ASK_WORKING_DAYS": int(env.get("DSR_PAUSE_ASK_WORKING_DAYS", "5")),
        # Stored exports (access copies, portable data) are deleted this many days after they were made.
        "EXPORT_RETENTION_DAYS": int(env.get("DSR_EXPORT_RETENTION_DAYS", "30")),
        # dsr's own retention: a closed case file is reduced this many years after closure (dsr/casefiles).
        "CASE_FILE_RETENTION_YEARS": int(env.get("DSR_CASE_FILE_RETENTION_YEARS", "2")),
        # An ID copy nobody confirmed is destroyed unchecked this many days after upload (dsr/identity).
        "ID_COPY_DAYS": int(env.get("DSR_ID_COPY_DAYS", "7")),
        # Scans read for the intake form but never logged as a request are deleted after this many hours.
        "SCAN_DRAFT_HOURS": int(env.get("DSR_SCAN_DRAFT_HOURS", "24")),
        # An information request (pause) open longer than this puts the case under "needs attention".
        "PAUSE_ATTENTION_DAYS": int(env.get("DSR_PAUSE_ATTENTION_DAYS", "30")),
        # The controller's facts about decisions based solely on automated processing (Art. 22, 15(1)(h)),
        # with their wording in nl, en and fr: a YAML file; unset, Harmony's own (none; dsr/automated).
        "AUTOMATED_DECISIONS_FILE": env.get("DSR_AUTOMATED_DECISIONS_FILE") or None,
        # Escalation report (dsr/reports): e-mailed to every privacy manager each working day at REPORT_TIME
        # (DSR_TIMEZONE); kept records due for erasure are erased daily at ERASE_DUE_TIME. Without
        # MAIL_SERVER nothing is sent and the command says so.
        "REPORT_TIME": env.get("DSR_REPORT_TIME", "07:30"),
        "ERASE_DUE_TIME": env.get("DSR_ERASE_DUE_TIME", "06:00"),
        "UNASSIGNED_WORKING_DAYS": int(env.get("DSR_UNASSIGNED_WORKING_DAYS", "2")),
        # Erasure: the last day of the book year (MM-DD) that fiscal retention counts from, and whether an
        # erasure plan must be approved by a privacy manager other than the one who built it (four eyes).
        "BOOK_YEAR_END": _book_year_end(env.get("DSR_BOOK_YEAR_END", "12-31")),
        "ERASURE_FOUR_EYES": env.get("DSR_ERASURE_FOUR_EYES", "true").lower() in ("1", "true", "yes", "on"),
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT") or "25"),
        # STARTTLS unless switched off (MAIL_USE_TLS=false, e.g. a relay on localhost) or MAIL_USE_SSL is on.
        "MAIL_USE_TLS": env.get("MAIL_USE_TLS", "true").lower() in ("1", "true", "yes", "on"),
        "MAIL_USE_SSL": env.get("MAIL_USE_SSL", "").lower() in ("1", "true", "yes", "on"),
        "MAIL_CA_FILE": env.get("MAIL_CA_FILE") or None,
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_FROM": env.get("MAIL_FROM", "dsr@harmony.example"),
    }
