"""Passwords (issue 17, acceptance 3): users change their own; a privacy manager's reset in the interface
forces a change at the next login, a password set at the console does not; at least 12 characters and
none of the most common passwords (the list shipped in the zxcvbn package, read from disk).
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
import time_machine
from werkzeug.security import check_password_hash

from dsr.audit.models import AuditEvent
from dsr.auth.models import User
from dsr.auth.passwords import common_passwords, password_problem
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.conftest import NOW
from tests.factories import PASSWORDS, login, make_user

OWN = "a walk along the Maas at dusk"


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def users(app):
    with app.app_context():
        return {role: make_user(role).id for role in Role}


def _user(app, role: Role) -> User:
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.email == f"{role.value}@harmony.test")).scalar_one()
        db.session.expunge(user)
        return user


def _actions(app) -> list[tuple[str, dict | None]]:
    with app.app_context():
        return [(e.action, e.after) for e in db.session.execute(sa.select(AuditEvent).order_by(AuditEvent.id)).scalars()]


@pytest.mark.parametrize(("password", "words"), [
    ("eleven-char", "at least 12"),
    ("password1234", "most common"),       # a common password with digits after it
    ("qwerty123456", "most common"),       # on the list as it is
    ("1qaz2wsx3edc", "most common"),
    ("!!Password2026!!", "most common"),   # signs and digits around a common one
    ("aaaaaaaaaaaaaaaa", "too few different"),
    ("x" * 201, "at most 200"),
])
def test_the_policy_refuses_short_common_and_trivial_passwords(app, password, words):
    with app.test_request_context():
        assert words in password_problem(password)


@pytest.mark.parametrize("password", [OWN, "staff-password-123", "Kx9#mQ2$vL7pR4", "correct-horse-battery"])
def test_the_policy_accepts_long_uncommon_passwords(app, password):
    with app.test_request_context():
        assert password_problem(password) is None


def test_the_common_list_comes_from_the_installed_package():
    words = common_passwords()
    assert len(words) >= 10_000 and "password" in words and "123456" in words


def test_a_user_changes_their_own_password(app, users):
    client = app.test_client()
    login(client, Role.STAFF)
    assert "Change password" in client.get("/account/password").get_data(as_text=True)
    wrong = client.post("/account/password", data={"current_password": "not-it-at-all", "new_password": OWN,
                                                   "confirm": OWN})
    assert wrong.status_code == 400 and "The current password is not correct." in wrong.get_data(as_text=True)
    common = client.post("/account/password", data={"current_password": PASSWORDS[Role.STAFF],
                                                    "new_password": "password1234", "confirm": "password1234"})
    assert common.status_code == 400 and "most common" in common.get_data(as_text=True)
    differ = client.post("/account/password", data={"current_password": PASSWORDS[Role.STAFF],
                                                    "new_password": OWN, "confirm": OWN + "!"})
    assert differ.status_code == 400 and "The two differ." in differ.get_data(as_text=True)
    assert check_password_hash(_user(app, Role.STAFF).password_hash, PASSWORDS[Role.STAFF])

    ok = client.post("/account/password", data={"current_password": PASSWORDS[Role.STAFF], "new_password": OWN,
                                                "confirm": OWN})
    assert ok.status_code == 302
    user = _user(app, Role.STAFF)
    assert check_password_hash(user.password_hash, OWN) and user.password_changed_at == NOW
    assert ("user.password_changed", {"email": "staff@harmony.test", "was_required": False,
                                      "sessions_ended": 1}) in _actions(app)
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": "staff@harmony.test",
                                      "password": PASSWORDS[Role.STAFF]}).status_code == 200
    assert fresh.post("/login", data={"email": "staff@harmony.test", "password": OWN}).headers["Location"] == "/cases"


def test_a_managers_reset_shows_a_temporary_password_once_and_forces_a_change(app, users):
    manager = app.test_client()
    login(manager, Role.PRIVACY_MANAGER)
    page = manager.post(f"/users/{users[Role.STAFF]}/password")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    temporary = re.search(r'<code id="temporary-password">([^<]+)</code>', html).group(1)
    assert len(temporary) >= 12
    assert "temporary" not in str(manager.get_cookie("session").value)  # not put in a cookie (no flash)
    assert ("user.password_reset", {"email": "staff@harmony.test", "must_change_password": True,
                                    "sessions_ended": 0}) in _actions(app)
    assert _user(app, Role.STAFF).must_change_password

    staff = app.test_client()
    assert staff.post("/login", data={"email": "staff@harmony.test",
                                      "password": PASSWORDS[Role.STAFF]}).status_code == 200  # old one is gone
    response = staff.post("/login", data={"email": "staff@harmony.test", "password": temporary})
    assert response.headers["Location"] == "/account/password"
    # Nothing else opens until the user has chosen their own password; logging out still works.
    for path in ("/cases", "/preferences", "/cases/new"):
        assert staff.get(path).headers["Location"] == "/account/password", path
    assert staff.post("/preferences", data={"locale": "nl"}).headers["Location"] == "/account/password"
    assert _user(app, Role.STAFF).locale == "en"
    assert staff.post("/account/password", data={"current_password": temporary, "new_password": OWN,
                                                 "confirm": OWN}).status_code == 302
    assert not _user(app, Role.STAFF).must_change_password
    assert staff.get("/cases").status_code == 200
    assert ("user.password_changed", {"email": "staff@harmony.test", "was_required": True,
                                      "sessions_ended": 1}) in _actions(app)


def test_a_manager_cannot_reset_their_own_password_there_and_others_cannot_reset(app, users):
    manager = app.test_client()
    login(manager, Role.PRIVACY_MANAGER)
    assert manager.post(f"/users/{users[Role.PRIVACY_MANAGER]}/password").status_code == 302
    assert not _user(app, Role.PRIVACY_MANAGER).must_change_password
    for role in (Role.STAFF, Role.AUDITOR):
        other = app.test_client()
        login(other, role)
        assert other.post(f"/users/{users[Role.PRIVACY_MANAGER]}/password").status_code == 403
    assert check_password_hash(_user(app, Role.PRIVACY_MANAGER).password_hash, PASSWORDS[Role.PRIVACY_MANAGER])


def test_a_user_made_in_the_interface_must_change_the_password_at_first_login(app, users):
    manager = app.test_client()
    login(manager, Role.PRIVACY_MANAGER)
    assert manager.post("/users/", data={"email": "new@harmony.nl", "name": "New", "role": "staff",
                                         "password": "typed-by-the-manager"}).status_code == 302
    newcomer = app.test_client()
    response = newcomer.post("/login", data={"email": "new@harmony.nl", "password": "typed-by-the-manager"})
    assert response.headers["Location"] == "/account/password"


def test_the_console_keeps_the_password_it_is_given(app, users, runner):
    result = runner.invoke(args=["dsr", "create-user", "cli@harmony.test", "--role", "staff", "--password-stdin"],
                           input=OWN + "\n")
    assert result.exit_code == 0, result.output
    client = app.test_client()
    assert client.post("/login", data={"email": "cli@harmony.test", "password": OWN}).headers["Location"] == "/cases"

    staff = app.test_client()
    login(staff, Role.STAFF)
    result = runner.invoke(args=["dsr", "reset-password", "staff@harmony.test", "--password-stdin"],
                           input="the console's own choice\n")
    assert result.exit_code == 0, result.output
    assert "every session of theirs has ended" in result.output
    assert staff.get("/cases").headers["Location"].startswith("/login")
    assert not _user(app, Role.STAFF).must_change_password
    response = staff.post("/login", data={"email": "staff@harmony.test", "password": "the console's own choice"})
    assert response.headers["Location"] == "/cases"


@pytest.mark.parametrize("command", [["create-user", "weak@harmony.test", "--role", "staff"],
                                     ["reset-password", "staff@harmony.test"]])
def test_the_console_refuses_a_common_password(app, users, runner, command):
    result = runner.invoke(args=["dsr", *command, "--password-stdin"], input="qwerty123456\n")
    assert result.exit_code != 0 and "most common" in result.output
    assert check_password_hash(_user(app, Role.STAFF).password_hash, PASSWORDS[Role.STAFF])
