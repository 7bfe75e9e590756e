"""Sign-on through OpenID Connect (issue 17, acceptance 4, second half), against a real OpenID provider
(oidc-provider from npm) started on a loopback port: roles come from a claim, accounts without a role are
refused, the role follows the claim, a deactivated account stays out."""

from __future__ import annotations

import pytest
import requests
import sqlalchemy as sa

from dsr import create_app
from dsr.auth.models import LoginAttempt, User
from dsr.domain.enums import Role
from dsr.extensions import db, limiter
from tests.factories import make_user
from tests.oidc_support import CLIENT_ID, CLIENT_SECRET, oidc_provider, path_of, sign_in_at_provider

CALLBACK = "http://localhost/login/sso/callback"
ACCOUNTS = {
    "mira": {"email": "mira@harmony.example", "dsr_role": "privacy_manager"},
    "sam": {"email": "Sam@Harmony.example", "dsr_role": ["other-app", "staff"]},
    "eve": {"email": "eve@harmony.example", "dsr_role": "intern"},
    "audrey": {"email": "audrey@harmony.example", "dsr_role": "controller"},
}


@pytest.fixture(scope="module")
def issuer():
    with oidc_provider([CALLBACK], ACCOUNTS) as url:
        yield url


@pytest.fixture
def sso_app(app, issuer):
    sso = create_app({k: app.config[k] for k in ("TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "STORAGE_DIR",
                                                  "WTF_CSRF_ENABLED", "INSTANCE_PATH", "PASSWORD_HASH_METHOD")}
                     | {"OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
                        "OIDC_SCOPES": "openid email profile dsr", "OIDC_ROLE_MAP": "controller=auditor"})
    yield sso
    with sso.app_context():
        db.session.remove()
        db.engine.dispose()
    limiter.init_app(app)


def _sign_on(sso_app, login: str, next_path: str | None = None):
    client = sso_app.test_client()
    start = client.get("/login/sso" + (f"?next={next_path}" if next_path else ""))
    assert start.status_code == 302
    back = sign_in_at_provider(requests.Session(), start.headers["Location"], login, CALLBACK)
    return client, client.get(path_of(back))


def _user(sso_app, email):
    with sso_app.app_context():
        user = db.session.execute(sa.select(User).where(User.email == email)).scalar_one_or_none()
        if user is not None:
            db.session.expunge(user)
        return user


def test_the_login_page_offers_sign_on_only_when_configured(app, sso_app):
    assert "Sign on with your organisation account" in sso_app.test_client().get("/login").get_data(as_text=True)
    assert "Sign on with" not in app.test_client().get("/login").get_data(as_text=True)
    assert app.test_client().get("/login/sso").status_code == 404


def test_a_first_sign_on_makes_the_account_with_the_role_of_the_claim(sso_app):
    client, response = _sign_on(sso_app, "mira", "/users/")
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    assert response.headers["Location"] == "/users/"
    assert client.get("/users/").status_code == 200
    user = _user(sso_app, "mira@harmony.example")
    assert user.role is Role.PRIVACY_MANAGER and not user.must_change_password
    with sso_app.app_context():
        attempt = db.session.execute(sa.select(LoginAttempt)).scalar_one()
        assert (attempt.email, attempt.outcome) == ("mira@harmony.example", "ok")
    # The session is a server-side session like any other: logout ends it.
    client.post("/logout")
    assert client.get("/cases").status_code == 302


def test_the_role_follows_the_claim_and_a_list_claim_is_read(sso_app):
    with sso_app.app_context():
        make_user(Role.AUDITOR, "sam@harmony.example")
    client, response = _sign_on(sso_app, "sam")
    assert response.headers["Location"] == "/cases"
    assert _user(sso_app, "sam@harmony.example").role is Role.STAFF
    assert client.get("/cases/new").status_code == 200  # staff may log a request; the auditor could not


def test_a_mapped_claim_value_gives_its_role(sso_app):
    _client, response = _sign_on(sso_app, "audrey")
    assert response.status_code == 302
    assert _user(sso_app, "audrey@harmony.example").role is Role.AUDITOR


def test_no_role_no_entry(sso_app):
    client, response = _sign_on(sso_app, "eve")
    assert response.status_code == 403
    assert "has no role in dsr" in response.get_data(as_text=True)
    assert _user(sso_app, "eve@harmony.example") is None
    assert client.get("/cases").status_code == 302


def test_a_deactivated_account_stays_out(sso_app):
    with sso_app.app_context():
        user = make_user(Role.STAFF, "sam@harmony.example")
        user.active = False
        db.session.commit()
    client, response = _sign_on(sso_app, "sam")
    assert response.status_code == 403
    assert client.get("/cases").status_code == 302


def test_a_forged_callback_is_refused(sso_app):
    client = sso_app.test_client()
    client.get("/login/sso")
    response = client.get("/login/sso/callback?code=made-up&state=made-up")
    assert response.status_code == 403 and "did not succeed" in response.get_data(as_text=True)
