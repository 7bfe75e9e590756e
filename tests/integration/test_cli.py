"""``flask --app wsgi dsr ...``: create-user, api-token and demo (issue 2, items 3 and 9).

Most tests drive the commands through ``app.test_cli_runner()`` (SQLite); the last ones run the real
``flask --app wsgi`` entry point in a subprocess, as an operator would.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from dsr.audit.models import AuditEvent
from dsr.auth.models import ApiToken, User
from dsr.auth.operations import check_credentials
from dsr.cases.models import Case, CaseRight
from dsr.domain.enums import CLOSED_STATES, Channel, Language, Right, Role
from dsr.extensions import db
from dsr.subjects.models import DataSubject
from tests.conftest import NOW, TODAY
from tests.integration.conftest import assert_unbroken_chain, audit_trail, build_app, row_count

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"


def create_user(runner, email: str, role: str = "staff", password: str = PASSWORD):
    return runner.invoke(args=["dsr", "create-user", email, "--role", role, "--password-stdin"],
                         input=password + "\n")


def last_line(output: str) -> str:
    return output.rstrip("\n").splitlines()[-1]


# -- create-user --------------------------------------------------------------------------------------------------

def test_create_user_reads_the_password_from_stdin_and_hashes_it(app, runner):
    result = runner.invoke(args=["dsr", "create-user", "  Mira@Harmony.Example ", "--role", "privacy_manager",
                                 "--name", "Mira", "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "mira@harmony.example" in result.output
    with app.app_context():
        user = db.session.scalars(sa.select(User)).one()
        assert (user.email, user.name, user.role, user.active) == ("mira@harmony.example", "Mira",
                                                                  Role.PRIVACY_MANAGER, True)
        assert PASSWORD not in user.password_hash
        assert check_password_hash(user.password_hash, PASSWORD)
        assert check_credentials("mira@harmony.example", PASSWORD) == (user, "ok")
        [event] = audit_trail()
        assert event.action == "user.created"
        assert event.after == {"email": "mira@harmony.example", "role": "privacy_manager", "name": "Mira",
                               "must_change_password": False}
        assert PASSWORD not in str(event.after)


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_create_user_for_each_role(app, runner, role):
    assert create_user(runner, f"{role}@x.test", role).exit_code == 0
    with app.app_context():
        assert db.session.scalars(sa.select(User.role)).one() is Role(role)


def test_create_user_refuses_a_duplicate_email(app, runner):
    assert create_user(runner, "sam@harmony.example").exit_code == 0
    result = create_user(runner, "SAM@harmony.example", "auditor", "another-long-password")
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert "sam@harmony.example" in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalars(sa.select(User.role)).all() == [Role.STAFF]


@pytest.mark.parametrize("password", ["short", "", "eleven-char"])
def test_create_user_refuses_a_short_password(app, runner, password):
    result = create_user(runner, "sam@harmony.example", password=password)
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    with app.app_context():
        assert row_count(User) == 0
        assert row_count(AuditEvent) == 0


def test_create_user_refuses_an_unknown_role(app, runner):
    result = create_user(runner, "sam@harmony.example", role="admin")
    assert result.exit_code == 2
    assert "admin" in result.output
    with app.app_context():
        assert row_count(User) == 0


# -- api-token ----------------------------------------------------------------------------------------------------

def test_api_token_prints_the_token_last_and_stores_only_its_sha256(app, runner):
    assert create_user(runner, "sam@harmony.example").exit_code == 0
    result = runner.invoke(args=["dsr", "api-token", "sam@harmony.example"])
    assert result.exit_code == 0, result.output
    token = last_line(result.output)
    assert len(token) >= 32 and " " not in token

    with app.app_context():
        [row] = db.session.scalars(sa.select(ApiToken)).all()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert row.user.email == "sam@harmony.example"
        # The token text appears in no column of the table, nor in the audit trail.
        stored = db.session.execute(sa.text("SELECT * FROM api_tokens")).mappings().one()
        assert all(token not in str(value) for value in stored.values())
        assert all(token not in str(e.after) for e in audit_trail())
        assert audit_trail()[-1].action == "api_token.issued"

    client = app.test_client()
    response = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["cases"] == []


def test_each_api_token_is_new(app, runner):
    assert create_user(runner, "sam@harmony.example").exit_code == 0
    first = last_line(runner.invoke(args=["dsr", "api-token", "sam@harmony.example"]).output)
    second = last_line(runner.invoke(args=["dsr", "api-token", "sam@harmony.example"]).output)
    assert first != second
    with app.app_context():
        assert row_count(ApiToken) == 2


def test_an_auditor_token_from_the_cli_may_read_but_not_create(app, runner):
    assert create_user(runner, "arthur@harmony.example", "auditor").exit_code == 0
    token = last_line(runner.invoke(args=["dsr", "api-token", "arthur@harmony.example"]).output)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    created = client.post("/api/v1/cases", headers=headers,
                          json={"rights": ["access"], "subject": {"name": "A", "email": "a@example.nl"}})
    assert created.status_code == 403
    assert created.is_json


def test_api_token_for_an_unknown_email_fails(app, runner):
    result = runner.invoke(args=["dsr", "api-token", "nobody@harmony.example"])
    assert result.exit_code != 0
    assert "No user with e-mail nobody@harmony.example" in result.output
    with app.app_context():
        assert row_count(ApiToken) == 0


# -- demo -----------------------------------------------------------------------------------------------------------

@pytest.fixture
def demo(app, runner, time_machine):
    time_machine.move_to(NOW, tick=False)
    result = runner.invoke(args=["dsr", "demo"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def test_demo_creates_a_user_for_each_role_who_can_log_in(app, demo):
    assert "Demo logins:" in demo.output
    with app.app_context():
        users = db.session.scalars(sa.select(User)).all()
        assert {u.role for u in users} == set(Role)
        for line in demo.output.split("Demo logins:")[1].strip().splitlines():
            _role, email, _label, password = line.split()
            assert check_credentials(email, password)[1] == "ok", email


def test_demo_cases_are_spread_like_a_real_queue(app, demo):
    with app.app_context():
        cases = db.session.scalars(sa.select(Case)).all()
        assert 50 <= len(cases) <= 70
        assert sorted(c.reference for c in cases) == [f"DSR-2026-{n:05d}" for n in range(1, len(cases) + 1)]
        assert set(db.session.scalars(sa.select(CaseRight.right))) == set(Right)
        assert any(len(c.rights) > 1 for c in cases), "no letter asking for several rights"
        assert {c.language for c in cases} == set(Language)
        assert len({c.channel for c in cases}) >= 4 and Channel.POST in {c.channel for c in cases}
        states = {c.state for c in cases}
        assert len(states) >= 4
        assert states & CLOSED_STATES and states - CLOSED_STATES

        # Received over the last 10 weeks, never in the future, most weeks represented.
        assert all(TODAY - timedelta(weeks=10) <= c.received_on <= TODAY for c in cases)
        assert len({(TODAY - c.received_on).days // 7 for c in cases}) >= 8

        open_cases = [c for c in cases if c.state not in CLOSED_STATES]
        overdue = [c for c in open_cases if c.legal_due_on < TODAY]
        due_soon = [c for c in open_cases if 0 <= (c.legal_due_on - TODAY).days <= 7]
        on_track = [c for c in open_cases if (c.legal_due_on - TODAY).days > 7]
        assert overdue and due_soon and on_track
        assert any(c.assignee_id for c in cases) and any(c.assignee_id is None for c in cases)
        assert_unbroken_chain(audit_trail())


def test_demo_twice_duplicates_nothing(app, runner, demo):
    def counts():
        with app.app_context():
            return {m.__name__: row_count(m) for m in (User, Case, CaseRight, DataSubject, ApiToken)}

    before = counts()
    again = runner.invoke(args=["dsr", "demo"])
    assert again.exit_code == 0, again.output
    assert "already present" in again.output
    assert "created user" not in again.output
    if_empty = runner.invoke(args=["dsr", "demo", "--if-empty"])
    assert if_empty.exit_code == 0, if_empty.output
    assert counts() == before


def test_demo_if_empty_loads_nothing_when_real_cases_exist(app, runner, time_machine):
    time_machine.move_to(NOW, tick=False)
    from tests.factories import make_case, make_user

    with app.app_context():
        make_case(actor=make_user(Role.STAFF))
    result = runner.invoke(args=["dsr", "demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert row_count(Case) == 1


# -- the real command line --------------------------------------------------------------------------------------------

def _flask(instance: Path, *args: str, input: str | None = None, env: dict | None = None):
    environ = {k: v for k, v in os.environ.items()
               if k not in ("SECRET_KEY", "DATABASE_URL", "STORAGE_DIR", "REDIS_URL", "DSR_ENV", "FLASK_APP")}
    environ.update({"DSR_INSTANCE_PATH": str(instance), "DATABASE_URL": f"sqlite:///{instance / 'dsr.sqlite3'}",
                    # A smaller copy of Harmony's demo systems: the same code, a fraction of the rows.
                    "DSR_DEMO_CUSTOMERS": "300"})
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, input=input,
                          capture_output=True, text=True, env=environ, timeout=300)


def _migrated(instance: Path) -> None:
    """Build the schema in-process (one subprocess fewer: each one takes seconds to start)."""
    from flask_migrate import upgrade

    app = build_app(f"sqlite:///{instance / 'dsr.sqlite3'}", instance)
    with app.app_context():
        upgrade()
        db.engine.dispose()


def test_the_flask_command_line_creates_a_user_and_a_working_token(tmp_path):
    _migrated(tmp_path)
    created = _flask(tmp_path, "dsr", "create-user", "sam@harmony.example", "--role", "staff", "--password-stdin",
                     input=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    issued = _flask(tmp_path, "dsr", "api-token", "sam@harmony.example")
    assert issued.returncode == 0, issued.stderr
    token = last_line(issued.stdout)
    with sqlite3.connect(tmp_path / "dsr.sqlite3") as conn:
        [row] = conn.execute("SELECT * FROM api_tokens").fetchall()
    assert hashlib.sha256(token.encode()).hexdigest() in row
    assert all(token not in str(v) for v in row)


def test_the_demo_queue_is_the_same_on_every_run(tmp_path):
    """The loader promises "seeded so every run gives the same queue": screenshots, the README and
    browser tests can then name a demo person. Two runs in two processes must agree."""
    queues = []
    for seed in ("1", "2"):
        instance = tmp_path / f"run{seed}"
        _migrated(instance)
        loaded = _flask(instance, "dsr", "demo", env={"PYTHONHASHSEED": seed})
        assert loaded.returncode == 0, loaded.stderr
        with sqlite3.connect(instance / "dsr.sqlite3") as conn:
            queues.append(conn.execute(
                "SELECT c.reference, s.name, s.email FROM cases c JOIN data_subjects s ON s.id = c.subject_id "
                "ORDER BY c.reference").fetchall())
    assert len(queues[0]) == len(queues[1]) > 0
    assert queues[0] == queues[1]
