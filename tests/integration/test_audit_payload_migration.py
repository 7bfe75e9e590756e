"""The data migration that moves audit details into payloads (issue 18, item 8), on SQLite and PostgreSQL.

An installation upgrading holds a chain hashed in the old form (details inside the hash). The migration
checks that chain first, refuses a broken one, re-hashes it in the new form and appends an event naming
the old head; afterwards ``audit-verify`` passes and the details read back unchanged.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from dsr.audit.models import AuditEvent
from dsr.audit.verify import verify_chain
from dsr.extensions import db

BEFORE_PAYLOADS = "26eb7fccf179"
GENESIS = "0" * 64
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _old_hash(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()


def _write_old_chain(details: list[tuple[dict | None, dict | None]], *, tamper_at: int | None = None) -> str:
    """Insert events hashed the way dsr did before payloads; returns the head hash."""
    prev = GENESIS
    events = sa.table("audit_events", sa.column("occurred_at", sa.DateTime(timezone=True)),
                      sa.column("actor_id"), sa.column("actor_label"), sa.column("case_id"), sa.column("action"),
                      sa.column("before", sa.JSON), sa.column("after", sa.JSON), sa.column("prev_hash"),
                      sa.column("hash"))
    with db.engine.begin() as conn:
        for i, (before, after) in enumerate(details):
            at = T0 + timedelta(minutes=i)
            content = {"occurred_at": at.isoformat(), "actor_id": None, "actor_label": "system", "case_id": None,
                       "action": f"test.{i}", "before": before, "after": after, "prev_hash": prev}
            digest = _old_hash(content)
            stored_after = {"tampered": True} if i == tamper_at else after
            conn.execute(events.insert().values(occurred_at=at, actor_id=None, actor_label="system", case_id=None,
                                                action=f"test.{i}", before=before, after=stored_after,
                                                prev_hash=prev, hash=digest))
            prev = digest
        conn.execute(sa.text("DELETE FROM audit_head"))
        conn.execute(sa.text("INSERT INTO audit_head (id, last_hash, events) VALUES (1, :h, :n)"),
                     {"h": prev, "n": len(details)})
    return prev


DETAILS = [
    (None, {"name": "Zoë Van den Broeck", "date_of_birth": "1984-02-29"}),
    ({"state": "received"}, {"state": "in_progress"}),
    (None, None),
    (None, {"body": "Belde op 3 maart; "}),
]


def test_the_migration_rehashes_an_old_chain_that_then_verifies(fresh_app):
    with fresh_app.app_context():
        upgrade(revision=BEFORE_PAYLOADS)
        old_head = _write_old_chain(DETAILS)
        upgrade()
        report = verify_chain()
        assert report.ok, report.problem
        assert report.count == len(DETAILS) + 1
        events = list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))
        assert [(e.before, e.after) for e in events[:-1]] == DETAILS
        assert [e.payload is None for e in events[:-1]] == [False, False, True, False]
        marker = events[-1]
        assert marker.action == "audit.rehashed"
        assert marker.after["old_head"] == old_head and marker.after["events"] == len(DETAILS)


def test_the_migration_refuses_a_broken_old_chain(fresh_app):
    with fresh_app.app_context():
        upgrade(revision=BEFORE_PAYLOADS)
        _write_old_chain(DETAILS, tamper_at=1)
        with pytest.raises(SystemExit) as refused:  # Flask-Migrate logs the error and exits 1
            upgrade()
        assert "The audit chain is broken at event 2" in str(refused.value.__context__)
        with db.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == BEFORE_PAYLOADS


def test_the_migration_on_an_empty_trail_adds_nothing(fresh_app):
    with fresh_app.app_context():
        upgrade()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0
        assert verify_chain().ok
