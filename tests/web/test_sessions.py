"""Sessions that end (issue 17, acceptance 1): a login is a row on the server, not only a signed cookie.

A cookie copied before logout no longer reads or writes; deactivating a user and changing or resetting a
password end all of that user's sessions, in every process; the CSRF token changes at login.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from dsr import create_app
from dsr.auth.models import User, UserSession
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.conftest import NOW
from tests.factories import PASSWORDS, login
from tests.web.support import csrf_token, frozen_clock, user_ids

NEW_PASSWORD = "a walk along the Maas at dusk"


@pytest.fixture
def app(backend_app):
    return backend_app


@pytest.fixture(autouse=True)
def _frozen_clock():
    yield from frozen_clock()


@pytest.fixture
def users(app):
    return user_ids(app)


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _client_with(app, cookie: str):
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


# Every test asks both kinds of page whether the session is open: the queue, which only reads and has its
# session and user as plain columns (dsr.auth.sessions.read_session), and the preferences, as objects in the
# request's session (live_session).
PAGES = {"page-that-only-reads": "/cases", "other-page": "/preferences"}
_PAGE = ["/cases"]


@pytest.fixture(autouse=True, params=list(PAGES))
def asked_page(request):
    _PAGE[0] = PAGES[request.param]
    yield _PAGE[0]
    _PAGE[0] = "/cases"


def _logged_in(client) -> bool:
    response = client.get(_PAGE[0])
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and response.headers["Location"].startswith("/login"), response.status
    return False


def _locale(app, role: Role) -> str:
    with app.app_context():
        return db.session.execute(sa.select(User.locale).where(User.email == f"{role.value}@harmony.test")).scalar_one()


def test_a_cookie_copied_before_logout_neither_reads_nor_writes_after_it(app, users):
    client = app.test_client()
    login(client, Role.STAFF)
    copied = _cookie(client)
    thief = _client_with(app, copied)
    assert _logged_in(thief)  # the copy works while the session is open: it is the same session

    assert client.post("/logout").status_code == 302
    assert not _logged_in(client)
    assert not _logged_in(thief)
    response = thief.post("/preferences", data={"locale": "nl"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert _locale(app, Role.STAFF) == "en"
    with app.app_context():
        [row] = db.session.execute(sa.select(UserSession)).scalars().all()
        assert (row.ended_at, row.end_reason) == (NOW, "logout")
        assert copied not in row.token_hash  # only the hash of the session's secret is stored


def test_the_session_is_shared_by_every_process_and_ends_in_all(app, users):
    """Two app objects on one database stand for two gunicorn workers: a login made by one is honoured
    by the other, and a logout in one ends it in the other."""
    second = create_app({**{k: app.config[k] for k in ("TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY",
                                                        "STORAGE_DIR", "WTF_CSRF_ENABLED", "INSTANCE_PATH")}})
    try:
        client = app.test_client()
        login(client, Role.STAFF)
        other_worker = _client_with(second, _cookie(client))
        assert _logged_in(other_worker)
        assert client.post("/logout").status_code == 302
        assert not _logged_in(other_worker)
    finally:
        with second.app_context():
            db.session.remove()
            db.engine.dispose()
        from dsr.extensions import limiter

        limiter.init_app(app)  # the limiter is one object: give it back to the suite's app


def test_deactivation_ends_every_session_of_the_user(app, users):
    staff_a, staff_b = app.test_client(), app.test_client()
    login(staff_a, Role.STAFF)
    login(staff_b, Role.STAFF)
    manager = app.test_client()
    login(manager, Role.PRIVACY_MANAGER)
    assert manager.post(f"/users/{users[Role.STAFF]}/active").status_code == 302
    assert not _logged_in(staff_a) and not _logged_in(staff_b)
    assert _logged_in(manager)
    with app.app_context():
        reasons = db.session.execute(sa.select(UserSession.end_reason).where(
            UserSession.user_id == users[Role.STAFF])).scalars().all()
        assert reasons == ["deactivated", "deactivated"]
    # Activated again, the old cookies stay dead: a new login is needed.
    assert manager.post(f"/users/{users[Role.STAFF]}/active").status_code == 302
    assert not _logged_in(staff_a)
    login(staff_a, Role.STAFF)
    assert _logged_in(staff_a)


def test_changing_the_own_password_ends_the_other_sessions_and_keeps_this_one(app, users):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, Role.STAFF)
    login(elsewhere, Role.STAFF)
    before = _cookie(here)
    response = here.post("/account/password", data={"current_password": PASSWORDS[Role.STAFF],
                                                     "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert _logged_in(here)
    assert not _logged_in(elsewhere)
    assert not _logged_in(_client_with(app, before))  # the cookie from before the change is dead too


def test_a_managers_reset_ends_every_session_of_the_user(app, users):
    staff = app.test_client()
    login(staff, Role.STAFF)
    manager = app.test_client()
    login(manager, Role.PRIVACY_MANAGER)
    assert manager.post(f"/users/{users[Role.STAFF]}/password").status_code == 200
    assert not _logged_in(staff)


def test_a_session_ends_after_the_idle_time_and_after_the_maximum_age(app, users, _frozen_clock, monkeypatch):
    import config

    defaults = config.from_environment(Path(app.instance_path), env={})
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", defaults["SESSION_IDLE_MINUTES"])
    monkeypatch.setitem(app.config, "SESSION_MAX_HOURS", defaults["SESSION_MAX_HOURS"])
    assert (defaults["SESSION_IDLE_MINUTES"], defaults["SESSION_MAX_HOURS"]) == (120, 12)
    client = app.test_client()
    login(client, Role.STAFF)
    idle = app.config["SESSION_IDLE_MINUTES"]
    _frozen_clock.shift(timedelta(minutes=idle - 1))
    assert _logged_in(client)  # a request keeps it alive
    _frozen_clock.shift(timedelta(minutes=idle + 1))
    assert not _logged_in(client)
    with app.app_context():
        assert db.session.execute(sa.select(UserSession.end_reason)).scalar_one() == "expired"

    login(client, Role.STAFF)
    for _ in range(app.config["SESSION_MAX_HOURS"]):
        _frozen_clock.shift(timedelta(minutes=60))
        assert _logged_in(client)
    _frozen_clock.shift(timedelta(minutes=1))
    assert not _logged_in(client)


def test_the_csrf_token_changes_at_login_and_the_old_one_is_refused(app, users, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    client = app.test_client()
    before = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": "staff@harmony.test", "password": PASSWORDS[Role.STAFF],
                                           "csrf_token": before})
    assert response.status_code == 302
    after = csrf_token(client.get("/preferences").get_data(as_text=True))
    assert after != before
    assert client.post("/preferences", data={"locale": "nl", "csrf_token": before}).status_code == 400
    assert _locale(app, Role.STAFF) == "en"
    assert client.post("/preferences", data={"locale": "nl", "csrf_token": after}).status_code == 302
    assert _locale(app, Role.STAFF) == "nl"


def test_a_forged_cookie_for_another_user_id_is_refused(app, users):
    """The session's secret belongs to one user: a cookie whose user id is changed (a leaked SECRET_KEY)
    but whose secret is another user's finds no session."""
    from flask.sessions import SecureCookieSessionInterface

    client = app.test_client()
    login(client, Role.AUDITOR)
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    data = serializer.loads(_cookie(client))
    data["_user_id"] = str(users[Role.PRIVACY_MANAGER])
    assert not _logged_in(_client_with(app, serializer.dumps(data)))


def test_the_cookies_signing_serializer_is_made_once_per_key_and_a_new_key_refuses_the_old_cookie(app, users,
                                                                                                  monkeypatch):
    """dsr.web.SessionCookies keeps the signing serializer Flask would make for every request (issue 15,
    item 3), per secret key: a cookie signed with a key that is no longer the secret (nor a fallback) is
    refused, as Flask refuses it."""
    from dsr.web import SessionCookies

    interface = app.session_interface
    assert isinstance(interface, SessionCookies)
    assert interface.get_signing_serializer(app) is interface.get_signing_serializer(app)
    client = app.test_client()
    login(client, Role.AUDITOR)
    assert _logged_in(client)
    old, cookie = interface.get_signing_serializer(app), _cookie(client)
    monkeypatch.setattr(app, "secret_key", "another secret key")
    assert interface.get_signing_serializer(app) is not old
    assert not _logged_in(_client_with(app, cookie))
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [old.secret_keys[-1]])
    assert _logged_in(_client_with(app, cookie))


def test_a_page_that_only_reads_has_its_user_detached_and_the_same_as_the_others(app, users, asked_page):
    """The queue's user is read as plain columns: a User with every column of its row, in no session, whose
    relationships raise instead of reading; the page says what the page of the same user read as objects says."""
    from flask import g, request_finished
    from flask_login import current_user
    from sqlalchemy.orm.exc import DetachedInstanceError

    from dsr.auth.sessions import ReadSession

    seen = {}

    def _look(sender, response, **extra):
        seen["user"] = current_user._get_current_object()
        seen["row"] = g.get("user_session")
        seen["in_session"] = seen["user"] in db.session

    client = app.test_client()
    login(client, Role.PRIVACY_MANAGER)
    with request_finished.connected_to(_look, app):
        assert client.get(asked_page).status_code == 200
    user, row = seen["user"], seen["row"]
    assert user.id == users[Role.PRIVACY_MANAGER] and user.role is Role.PRIVACY_MANAGER and user.is_manager
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert {key: getattr(user, key) for key in ("email", "name", "role", "locale", "active", "created_at",
                                                    "must_change_password", "totp_enabled_at")} == {
            key: getattr(stored, key) for key in ("email", "name", "role", "locale", "active", "created_at",
                                                  "must_change_password", "totp_enabled_at")}
    if asked_page == PAGES["page-that-only-reads"]:
        assert isinstance(row, ReadSession) and isinstance(user, User)
        assert not seen["in_session"] and sa.inspect(user).detached
        with pytest.raises(DetachedInstanceError):
            user.tokens  # noqa: B018 (a read that must not reach the database)
    else:
        assert isinstance(row, UserSession) and seen["in_session"]
