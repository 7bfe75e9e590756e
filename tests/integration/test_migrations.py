"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL (issue 2, item 4).

Nothing migrates at start-up (STYLE.md point 6): ``flask db upgrade`` does.
"""

from __future__ import annotations

import warnings
from datetime import date

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade

from dsr.extensions import db
from tests.integration.conftest import table_names


def _schema_differences() -> list:
    """What ``flask db migrate`` would generate: empty when the migrated schema matches the models.

    Server defaults are compared on PostgreSQL only: SQLite reflects ``DEFAULT ''`` as ``('')`` and
    Alembic reports that as a change although both are the empty string.
    """
    with db.engine.connect() as conn, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes (the queue's deadline order); PostgreSQL compares them.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index",
                                sa.exc.SAWarning)
        opts = {"compare_type": True, "compare_server_default": conn.dialect.name == "postgresql"}
        return compare_metadata(MigrationContext.configure(conn, opts=opts), db.metadata)


def _script() -> ScriptDirectory:
    migrate = current_app.extensions["migrate"]
    return ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))


def _current_revision() -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _model_tables() -> set[str]:
    return set(db.metadata.tables)


def test_migrated_schema_matches_the_models(ctx):
    """The shared test database was built by ``upgrade()`` (tests/conftest.py) and has no drift."""
    assert _schema_differences() == []
    assert _current_revision() == _script().get_current_head()


def test_the_open_queue_index_carries_the_overdue_filters_columns_on_postgresql(ctx):
    """compare_metadata does not compare an index's INCLUDE columns: the overdue filter's index-only count
    needs them (revision e4a7c1d9b2f6)."""
    from dsr.cases.models import OPEN_DUE_INCLUDES

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no INCLUDE")
    index = next(i for i in sa.inspect(db.engine).get_indexes("cases") if i["name"] == "ix_cases_open_due")
    assert index["dialect_options"]["postgresql_include"] == OPEN_DUE_INCLUDES


def test_upgrade_builds_the_schema_on_an_empty_database(fresh_app):
    assert table_names(fresh_app) == set()
    with fresh_app.app_context():
        upgrade()
        assert set(sa.inspect(db.engine).get_table_names()) == _model_tables() | {"alembic_version"}
        assert _current_revision() == _script().get_current_head()
        assert _schema_differences() == []


def test_downgrade_to_base_and_upgrade_again(fresh_app):
    with fresh_app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        assert _current_revision() is None
        upgrade()
        assert _schema_differences() == []


def test_every_revision_downgrades_and_upgrades_again(fresh_app):
    """The "stairway": each revision's downgrade undoes its upgrade, so a deployment can be rolled back."""
    with fresh_app.app_context():
        revisions = list(reversed(list(_script().walk_revisions())))
        assert revisions, "no migration found"
        for rev in revisions:
            upgrade(revision=rev.revision)
            downgrade(revision=rev.down_revision or "base")
            upgrade(revision=rev.revision)
            assert _current_revision() == rev.revision
        assert _schema_differences() == []


def test_flask_db_upgrade_command_builds_the_schema(fresh_app):
    runner = fresh_app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert table_names(fresh_app) == _model_tables() | {"alembic_version"}
    check = runner.invoke(args=["db", "check"])
    assert check.exit_code == 0, check.output + repr(check.exception)


def test_the_app_does_not_migrate_at_start_up(fresh_app):
    """create_app, a page request and a CLI command leave an empty database empty."""
    client = fresh_app.test_client()
    assert client.get("/login").status_code == 200
    fresh_app.test_cli_runner().invoke(args=["dsr", "--help"])
    assert table_names(fresh_app) == set()


# -- the constraints the models declare are in the migrated schema, with their names ---------------------------

NAMED_CHECKS = {
    "cases": {"ck_cases_case_state", "ck_cases_case_channel", "ck_cases_case_language",
              "ck_cases_closed_iff_closed_at", "ck_cases_legal_due_after_receipt", "ck_cases_promise_after_receipt"},
    "case_rights": {"ck_case_rights_case_right"},
    "users": {"ck_users_user_role", "ck_users_locale"},
    "attachments": {"ck_attachments_media_type", "ck_attachments_size_positive"},
    "lookups": {"ck_lookups_lookup_match", "ck_lookups_verdict_agrees"},
}


@pytest.mark.parametrize("table", sorted(NAMED_CHECKS))
def test_check_constraints_are_migrated_with_their_names(ctx, table):
    """compare_metadata does not compare CHECK constraints, so look for them by name."""
    names = {c["name"] for c in sa.inspect(db.engine).get_check_constraints(table)}
    assert NAMED_CHECKS[table] <= names


def _insert_subject(conn):
    conn.execute(sa.text(
        "INSERT INTO data_subjects (name, name_key, created_at) VALUES ('A', 'a', CURRENT_TIMESTAMP)"))


def _insert_case(conn, **overrides):
    values = {
        "reference": "DSR-2026-00001", "subject_id": 1, "channel": "post", "received_on": date(2026, 3, 5),
        "language": "nl", "state": "received", "notes": "", "promised_on": date(2026, 4, 2),
        "legal_due_on": date(2026, 4, 7), "version": 1, "closed_at": None,
    }
    values.update(overrides)
    conn.execute(sa.text(
        "INSERT INTO cases (reference, subject_id, channel, received_on, language, state, notes, promised_on, "
        "legal_due_on, created_at, updated_at, version, closed_at) VALUES (:reference, (SELECT max(id) FROM "
        "data_subjects), :channel, :received_on, :language, :state, :notes, :promised_on, :legal_due_on, "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, :version, :closed_at)"), values)


@pytest.mark.parametrize(("overrides", "constraint"), [
    ({"state": "lost"}, "ck_cases_case_state"),
    ({"channel": "fax"}, "ck_cases_case_channel"),
    ({"language": "de"}, "ck_cases_case_language"),
    ({"state": "closed"}, "ck_cases_closed_iff_closed_at"),
    ({"legal_due_on": date(2026, 3, 5)}, "ck_cases_legal_due_after_receipt"),
    ({"promised_on": date(2026, 3, 1)}, "ck_cases_promise_after_receipt"),
], ids=["state", "channel", "language", "closed-without-closed_at", "legal-due", "promise"])
def test_the_database_refuses_rows_the_models_forbid(ctx, overrides, constraint):
    with db.engine.connect() as conn:
        trans = conn.begin()
        _insert_subject(conn)
        _insert_case(conn)  # the valid row goes in
        with pytest.raises(sa.exc.IntegrityError) as refused:
            _insert_case(conn, reference="DSR-2026-00002", **overrides)
        trans.rollback()
    assert constraint in str(refused.value)


def test_the_migrated_check_constraints_take_every_right_and_letter_kind(ctx):
    """A new right or letter kind alters the CHECK constraints in its revision (issue 18: restriction, and any
    right added beside it): every value of the enums goes in, an unknown one is refused."""
    from dsr.domain.enums import Right
    from dsr.letters.kinds import LetterKind

    with db.engine.connect() as conn:
        trans = conn.begin()
        _insert_subject(conn)
        _insert_case(conn)
        for right in Right:
            conn.execute(sa.text('INSERT INTO case_rights (case_id, "right") VALUES ((SELECT max(id) FROM cases), '
                                 ':r)'), {"r": right.value})
        check = {c["name"]: c["sqltext"] for c in sa.inspect(conn).get_check_constraints("issued_letters")}
        for kind in LetterKind:
            assert f"'{kind.value}'" in check["ck_issued_letters_letter_kind"], kind
        with pytest.raises(sa.exc.IntegrityError) as refused:
            with conn.begin_nested():
                conn.execute(sa.text('INSERT INTO case_rights (case_id, "right") VALUES ((SELECT max(id) FROM '
                                     "cases), 'robot')"))
        trans.rollback()
    assert "ck_case_rights_case_right" in str(refused.value)
