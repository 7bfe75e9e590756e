"""The watch every test runs under (tests/conftest.py): a page marked reads_only (dsr.auth.access) runs without a
transaction, so a write there would be kept; the watch catches one and leaves everything else alone."""

from __future__ import annotations

import pytest

from tests import conftest


@pytest.mark.parametrize(("method", "path", "statement", "caught"), [
    ("GET", "/cases", "INSERT INTO audit_events (action) VALUES (%(action)s)", True),
    ("GET", "/cases?state=all", "WITH moved AS (UPDATE cases SET state = 'closed' RETURNING id) SELECT id FROM moved",
     True),
    ("HEAD", "/cases", "DELETE FROM saved_views WHERE id = %(id)s", True),
    ("GET", "/cases", "SELECT nextval(pg_get_serial_sequence('cases', 'id'))", True),
    ("GET", "/cases", "UPDATE user_sessions SET last_seen_at = %(seen)s WHERE user_sessions.id = %(session_id)s",
     False),
    ("GET", "/cases", "SELECT cases.updated_at, cases.deleted FROM cases", False),
    ("POST", "/cases", "INSERT INTO audit_events (action) VALUES (%(action)s)", False),
    ("GET", "/preferences", "INSERT INTO audit_events (action) VALUES (%(action)s)", False),
])
def test_the_watch_catches_a_write_on_a_page_that_only_reads(app, method, path, statement, caught):
    with app.test_request_context(path, method=method):
        conftest._written_on_a_read(None, None, statement, {}, None, False)
    try:
        assert bool(conftest._WRITTEN_ON_READS) is caught
    finally:
        conftest._WRITTEN_ON_READS.clear()
