"""Fixtures for integration tests that need more than the shared, already-migrated apps of tests/conftest.py.

``empty_database`` gives a database with no tables at all, on each backend: a new SQLite file, or a new,
empty PostgreSQL schema (dropped afterwards). ``fresh_app`` is an app built against it, nothing migrated.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from config import normalise_database_url
from dsr import create_app
from dsr.audit.models import AuditEvent
from dsr.audit.operations import GENESIS, compute_hash
from dsr.extensions import db
from tests.conftest import BACKENDS, PG_URL, _with_search_path


def _admin_engine() -> sa.Engine:
    return sa.create_engine(normalise_database_url(PG_URL))


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    """The URL of a database without any table: SQLite always, PostgreSQL when configured."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    schema = f"dsr_empty_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine()
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _with_search_path(PG_URL, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def build_app(url: str, base) -> object:
    return create_app({
        "TESTING": True,
        "INSTANCE_PATH": str(base),
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "STORAGE_DIR": str(base / "storage"),
        "WTF_CSRF_ENABLED": False,
    })


@pytest.fixture
def fresh_app(empty_database, tmp_path):
    """An app on an empty database. Nothing is migrated: that is up to the test."""
    app = build_app(empty_database, tmp_path)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def table_names(app) -> set[str]:
    with app.app_context():
        return set(sa.inspect(db.engine).get_table_names())


def row_count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def audit_trail() -> list[AuditEvent]:
    """Every audit event as stored, read back fresh from the database, oldest first."""
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))


def assert_unbroken_chain(events: list[AuditEvent]) -> None:
    """The first event chains onto the genesis hash, each later one onto its predecessor, and every
    stored hash is the hash of the stored content (nothing was changed after it was written)."""
    assert events, "no audit events"
    assert events[0].prev_hash == GENESIS
    for previous, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == previous.hash, f"event {event.id} ({event.action}) does not chain onto {previous.id}"
    for event in events:
        assert event.hash == compute_hash(event), f"event {event.id} ({event.action}) does not match its hash"
    assert len({e.prev_hash for e in events}) == len(events), "two events chain onto the same predecessor"


# -- a small copy of Harmony's demo systems, for tests that read a demo customer's data ----------------------

@pytest.fixture(scope="module")
def harmony(tmp_path_factory) -> str:
    from datetime import date

    from tests.harmony_support import demo_systems

    return demo_systems(tmp_path_factory, date(2026, 11, 26))


@pytest.fixture
def systems(ctx, harmony, monkeypatch) -> str:
    """The demo systems as the app's configured source (module-level fixtures of the same name win)."""
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", harmony)
    return harmony


@pytest.fixture
def customer(systems) -> dict:
    from tests.harmony_support import customer_with_everything

    return customer_with_everything(systems)
