"""The privacy manager manages users (issue 2, acceptance 3; DESIGN.md "Users and what they do")."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import time_machine

from dsr.audit.models import AuditEvent
from dsr.auth.models import User
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.conftest import NOW
from tests.factories import PASSWORDS, login, make_user
from tests.web.support import field_errors, flashes, read_form, text_of

GENERIC_LOGIN_FAILURE = "The e-mail address or password is not correct."
NEW = {"email": "anna.de.wit@harmony.nl", "name": "Anna de Wit", "role": "staff",
       "password": "correct-horse-battery"}


@pytest.fixture
def app(backend_app):
    """The web tests of this module run on SQLite and on PostgreSQL."""
    return backend_app


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def manager(app, client):
    with app.app_context():
        ids = {"manager": make_user(Role.PRIVACY_MANAGER).id, "staff": make_user(Role.STAFF).id,
               "auditor": make_user(Role.AUDITOR).id}
    login(client, Role.PRIVACY_MANAGER)
    return ids


def _users(app) -> dict[str, tuple[Role, bool]]:
    with app.app_context():
        return {u.email: (u.role, u.active) for u in db.session.execute(sa.select(User)).scalars()}


def _actions(app) -> list[tuple[str, int | None]]:
    with app.app_context():
        return list(db.session.execute(sa.select(AuditEvent.action, AuditEvent.actor_id).order_by(AuditEvent.id)))


def test_manager_sees_every_user_with_role_and_status(client, manager):
    response = client.get("/users/")
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    for email, role in (("privacy_manager@harmony.test", "Privacy manager"), ("staff@harmony.test", "Staff"),
                        ("auditor@harmony.test", "Auditor")):
        assert email in text and role in text


def test_manager_creates_a_user_who_can_then_log_in(app, client, manager):
    response = client.post("/users/", data={**NEW, "email": "Anna.de.Wit@Harmony.nl"})
    assert response.status_code == 302
    assert _users(app)[NEW["email"]] == (Role.STAFF, True)  # the login is case-insensitive, stored lower-case
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.email == NEW["email"])).scalar_one()
        assert user.name == "Anna de Wit"
        assert NEW["password"] not in user.password_hash
    assert ("user.created", manager["manager"]) in _actions(app)
    messages = flashes(client.get(response.headers["Location"]).get_data(as_text=True))
    assert [cat for cat, text in messages if "anna.de.wit@harmony.nl" in text.lower()] == ["success"]
    # The manager typed the password, so the newcomer must choose their own before anything else.
    newcomer = app.test_client()
    response = newcomer.post("/login", data={"email": NEW["email"], "password": NEW["password"]})
    assert response.headers["Location"] == "/account/password"
    assert newcomer.get("/cases").headers["Location"] == "/account/password"
    own = "a walk along the Maas at dusk"
    assert newcomer.post("/account/password", data={"current_password": NEW["password"], "new_password": own,
                                                    "confirm": own}).status_code == 302
    assert newcomer.get("/cases").status_code == 200


@pytest.mark.parametrize("role", ["privacy_manager", "staff", "auditor"])
def test_manager_creates_a_user_of_each_role(app, client, manager, role):
    assert client.post("/users/", data={**NEW, "role": role}).status_code == 302
    assert _users(app)[NEW["email"]] == (Role(role), True)


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"email": "staff@harmony.nl"}, "email", "already exists"),
    ({"email": "STAFF@Harmony.NL"}, "email", "already exists"),
    ({"password": "eleven-char"}, "password", "12"),
    ({"password": ""}, "password", "required"),
    ({"email": "not-an-address"}, "email", "email"),
    ({"name": ""}, "name", "required"),
    ({"role": "admin"}, "role", "choice"),
])
def test_bad_new_user_is_refused_with_the_reason_on_the_field(app, client, manager, overrides, field, words):
    with app.app_context():
        make_user(Role.STAFF, email="staff@harmony.nl")
    before = _users(app)
    events_before = len(_actions(app))
    data = {**NEW, **overrides}
    response = client.post("/users/", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    errors = field_errors(html)
    assert set(errors) == {field}, errors
    assert any(words.lower() in message.lower() for message in errors[field]), errors
    assert _users(app) == before
    assert len(_actions(app)) == events_before
    if field != "name":
        assert read_form(html).values.get("name") == [data["name"]]


def test_deactivated_user_cannot_log_in_and_reactivated_user_can(app, client, manager):
    response = client.post(f"/users/{manager['staff']}/active")
    assert response.status_code == 302
    assert _users(app)["staff@harmony.test"] == (Role.STAFF, False)
    assert ("user.deactivated", manager["manager"]) in _actions(app)
    assert "deactivated" in text_of(client.get("/users/").get_data(as_text=True))

    staff = app.test_client()
    refused = staff.post("/login", data={"email": "staff@harmony.test", "password": PASSWORDS[Role.STAFF]})
    assert refused.status_code == 200
    assert ("danger", GENERIC_LOGIN_FAILURE) in flashes(refused.get_data(as_text=True))
    assert staff.get("/cases").status_code == 302

    assert client.post(f"/users/{manager['staff']}/active").status_code == 302
    assert _users(app)["staff@harmony.test"] == (Role.STAFF, True)
    assert ("user.activated", manager["manager"]) in _actions(app)
    assert staff.post("/login", data={"email": "staff@harmony.test",
                                      "password": PASSWORDS[Role.STAFF]}).status_code == 302


def test_manager_cannot_deactivate_themselves(app, client, manager):
    response = client.post(f"/users/{manager['manager']}/active", follow_redirects=True)
    assert response.status_code == 200
    assert ("danger", "You cannot deactivate yourself.") in flashes(response.get_data(as_text=True))
    assert _users(app)["privacy_manager@harmony.test"] == (Role.PRIVACY_MANAGER, True)
    assert client.get("/cases").status_code == 200


def test_toggling_an_unknown_user_is_404(client, manager):
    assert client.post("/users/424242/active").status_code == 404


def test_toggling_needs_a_post(client, manager):
    assert client.get(f"/users/{manager['staff']}/active").status_code == 405
