"""A pooled connection is checked before use without a round trip each time (issue 15, item 3), and a dead one
is still replaced before a request uses it, as ``pool_pre_ping`` did."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from dsr import extensions
from dsr.extensions import db
from tests.conftest import PG_URL


def _pings(engine, monkeypatch) -> list:
    pinged = []
    real = engine.dialect.do_ping

    def counting(dbapi_connection):
        pinged.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return pinged


def _one_pooled_connection(engine) -> None:
    """The pool holds one connection, used and returned a moment ago."""
    engine.dispose()
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_in_use_a_moment_ago_with_nothing_on_its_socket_is_not_pinged(backend_app, monkeypatch):
    with backend_app.app_context():
        engine = db.engine
        _one_pooled_connection(engine)
        pinged = _pings(engine, monkeypatch)
        for _ in range(3):
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT 2")).scalar_one() == 2
        # SQLite's connection has no socket to look at: it is pinged, as before.
        assert len(pinged) == (3 if engine.dialect.name == "sqlite" else 0)


def test_a_connection_that_sat_idle_is_pinged(backend_app, monkeypatch):
    with backend_app.app_context():
        engine = db.engine
        _one_pooled_connection(engine)
        monkeypatch.setattr(extensions, "PING_AFTER_IDLE_SECONDS", 0.0)
        pinged = _pings(engine, monkeypatch)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 2")).scalar_one() == 2
        assert len(pinged) == 1


def test_a_connection_the_server_ended_is_replaced_before_it_is_used(backend_app):
    """A restarted server or an administrator ends the backend; the next checkout sees it on the socket at once
    (no idle time needed) and takes a new connection instead of failing the request."""
    if backend_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("a server ending a connection is a PostgreSQL matter")
    with backend_app.app_context():
        engine = db.engine
        engine.dispose()
        pid = _backend_pid(engine)  # the pool now holds this one connection
        admin = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with admin.begin() as conn:
                assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        finally:
            admin.dispose()
        time.sleep(0.3)  # the server's goodbye reaches the socket
        assert _backend_pid(engine) != pid
