"""Two-step login (issue 17, acceptance 4, first half): a TOTP second factor (pyotp), required per role by a
setting (privacy managers by default in production), with recovery codes stored hashed."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa

import config
from dsr.auth.models import LoginAttempt, RecoveryCode, User
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.conftest import NOW
from tests.factories import PASSWORDS, login
from tests.web.support import frozen_clock, user_ids


@pytest.fixture
def app(backend_app):
    return backend_app


@pytest.fixture(autouse=True)
def _clock():
    yield from frozen_clock()


@pytest.fixture
def users(app):
    return user_ids(app)


def _enrol(app, client) -> tuple[str, list[str]]:
    page = client.get("/account/two-step").get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    assert f"secret={secret}" in page and "issuer=dsr" in page
    wrong = client.post("/account/two-step", data={"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "1"})
    assert wrong.status_code == 400
    done = client.post("/account/two-step", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, codes


def _password(client, role=Role.STAFF):
    return client.post("/login", data={"email": f"{role.value}@harmony.test", "password": PASSWORDS[role]})


def _user(app, role) -> User:
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.email == f"{role.value}@harmony.test")).scalar_one()
        db.session.expunge(user)
        return user


def test_enrolment_then_login_needs_the_code_once(app, users, _clock):
    client = app.test_client()
    login(client, Role.STAFF)
    secret, codes = _enrol(app, client)
    with app.app_context():
        stored = db.session.execute(sa.select(RecoveryCode.code_hash)).scalars().all()
        assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are kept
    assert _user(app, Role.STAFF).totp_enabled_at == NOW
    client.post("/logout")

    _clock.shift(timedelta(seconds=60))
    browser = app.test_client()
    response = _password(browser)
    assert response.headers["Location"] == "/login/code"
    assert browser.get("/cases").headers["Location"].startswith("/login")  # no session without the code
    assert browser.post("/login/code", data={"code": "123456" if pyotp.TOTP(secret).now() != "123456"
                                             else "654321"}).status_code == 200
    code = pyotp.TOTP(secret).now()
    assert browser.post("/login/code", data={"code": code}).headers["Location"] == "/cases"
    assert browser.get("/cases").status_code == 200

    # The same code does not open a second session (it was used).
    thief = app.test_client()
    _password(thief)
    page = thief.post("/login/code", data={"code": code})
    assert page.status_code == 200 and "was used already" in page.get_data(as_text=True)
    with app.app_context():
        outcomes = db.session.execute(sa.select(LoginAttempt.outcome).order_by(LoginAttempt.id)).scalars().all()
    assert outcomes == ["ok", "bad_code", "ok", "bad_code"]


def test_a_recovery_code_works_once(app, users):
    client = app.test_client()
    login(client, Role.STAFF)
    _secret, codes = _enrol(app, client)
    first = app.test_client()
    _password(first)
    response = first.post("/login/code", data={"code": codes[3].upper()})
    assert response.headers["Location"] == "/cases"
    again = app.test_client()
    _password(again)
    assert again.post("/login/code", data={"code": codes[3]}).status_code == 200
    assert again.get("/cases").headers["Location"].startswith("/login")


def test_wrong_codes_are_throttled_like_passwords(app, users):
    client = app.test_client()
    login(client, Role.STAFF)
    secret, _codes = _enrol(app, client)
    browser = app.test_client()
    _password(browser)
    bad = "111111" if pyotp.TOTP(secret).now() != "111111" else "222222"
    for _ in range(5):
        assert browser.post("/login/code", data={"code": bad}).status_code == 200
    assert browser.post("/login/code", data={"code": pyotp.TOTP(secret).now()}).status_code == 429


def test_the_pending_second_step_expires(app, users, _clock):
    client = app.test_client()
    login(client, Role.STAFF)
    secret, _codes = _enrol(app, client)
    browser = app.test_client()
    _password(browser)
    _clock.shift(timedelta(minutes=6))
    response = browser.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
    assert response.headers["Location"] == "/login"


def test_a_role_that_requires_it_must_enrol_before_anything_else(app, users, monkeypatch):
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", ("privacy_manager",))
    manager = app.test_client()
    login(manager, Role.PRIVACY_MANAGER)
    for path in ("/cases", "/users/", "/preferences"):
        assert manager.get(path).headers["Location"] == "/account/two-step", path
    staff = app.test_client()
    login(staff, Role.STAFF)
    assert staff.get("/cases").status_code == 200
    _enrol(app, manager)
    assert manager.get("/users/").status_code == 200
    # A required second factor cannot be turned off by its user.
    secret = _user(app, Role.PRIVACY_MANAGER).totp_secret
    assert manager.post("/account/two-step", data={"code": pyotp.TOTP(secret).now()}).status_code == 403


def test_a_user_whose_role_does_not_require_it_may_turn_it_off_with_a_code(app, users, _clock):
    client = app.test_client()
    login(client, Role.STAFF)
    secret, _codes = _enrol(app, client)
    _clock.shift(timedelta(seconds=30))
    assert client.post("/account/two-step", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert _user(app, Role.STAFF).totp_enabled_at is None
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(RecoveryCode)).scalar_one() == 0
    assert _password(app.test_client()).headers["Location"] == "/cases"


def test_production_requires_it_of_privacy_managers_by_default(tmp_path):
    prod = config.from_environment(Path(tmp_path), env={"DSR_ENV": "production", "SECRET_KEY": "s" * 32,
                                                        "SUPPRESSION_SALT": "p" * 32})
    assert prod["MFA_REQUIRED_ROLES"] == ("privacy_manager",)
    assert config.from_environment(Path(tmp_path), env={})["MFA_REQUIRED_ROLES"] == ()
    both = config.from_environment(Path(tmp_path), env={"DSR_MFA_REQUIRED_ROLES": "privacy_manager, staff"})
    assert both["MFA_REQUIRED_ROLES"] == ("privacy_manager", "staff")


def test_the_console_turns_it_off_and_ends_the_sessions(app, users, runner):
    client = app.test_client()
    login(client, Role.STAFF)
    _enrol(app, client)
    result = runner.invoke(args=["dsr", "reset-two-step", "staff@harmony.test"])
    assert result.exit_code == 0, result.output
    assert client.get("/cases").headers["Location"].startswith("/login")
    assert _password(app.test_client()).headers["Location"] == "/cases"
