"""Who may reach what: CSRF, login on every route, roles, login messages, redirects and headers.

Issue 2, acceptance 3 and 10: every page except login requires login; every action checks the role;
the auditor changes nothing; a POST without a CSRF token is refused; the login failure says nothing
about which part was wrong; the back office sends a strict Content-Security-Policy.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
import time_machine

from dsr.auth.models import User
from dsr.auth.operations import issue_api_token, set_active
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.conftest import NOW
from tests.factories import PASSWORDS, login, make_case, make_user
from tests.web.support import (
    browser_target,
    csrf_token,
    flashes,
    intake_data,
    pdf_bytes,
    stored_counts,
    with_file,
)

# Endpoints an anonymous visitor may reach. Every other rule in url_map must send them to the login
# page (or answer 401 under /api/), so a route added later is covered without touching this test.
PUBLIC_ENDPOINTS = {"auth.login", "static", "bootstrap.static", "api_docs.openapi", "oidc.start", "oidc.callback"}
# Real files for the static endpoints, so "public" is checked on something that exists.
STATIC_FILES = {"static": "css/dsr.css", "bootstrap.static": "css/bootstrap.min.css"}
# POST routes every logged-in user may use for themselves (they change no case, subject or user but
# their own session or interface language).
SELF_SERVICE_ENDPOINTS = {"auth.login", "auth.logout", "auth.preferences", "auth.change_password", "tokens.own",
                          "tokens.revoke", "auth.totp_setup", "auth.login_totp", "cases.save_view",
                          "cases.delete_view"}
# POST routes that only read: the access preview is a POST because it reads Harmony's systems and is
# audited (issue 12.6); every role may see it (tests/web/access_table.py, test_access_web), the auditor too.
READ_ONLY_POSTS = {"access.preview"}
# Pages that only exist to change something: the auditor does not even see them.
WRITE_ONLY_PAGES = {"cases.new", "cases.matches", "users.index"}
GENERIC_LOGIN_FAILURE = "The e-mail address or password is not correct."


@pytest.fixture
def app(backend_app):
    """The web tests of this module run on SQLite and on PostgreSQL."""
    return backend_app


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def csrf_on(app, monkeypatch):
    """CSRF protection as in production, for one test (monkeypatch restores the setting)."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    return app


@pytest.fixture
def people(app):
    """One user per role, a case with a scanned letter, and the ids the routes need."""
    with app.app_context():
        manager = make_user(Role.PRIVACY_MANAGER)
        staff = make_user(Role.STAFF)
        auditor = make_user(Role.AUDITOR)
        case = make_case(actor=staff, received_on=date(2026, 11, 20))
        ids = {"manager": manager.id, "staff": staff.id, "auditor": auditor.id, "reference": case.reference}
    client = app.test_client()
    login(client, Role.STAFF)
    response = client.post("/cases/new", data=with_file(intake_data(), pdf_bytes(), "brief.pdf"),
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.data[:800]
    with app.app_context():
        ids["attachment"] = db.session.execute(sa.text("SELECT max(id) FROM attachments")).scalar_one()
    return ids


def _dummy_values(rule, ids: dict) -> dict:
    """Arguments for a rule's converters that point at real rows where the name says which."""
    values = {}
    for name in rule.arguments:
        converter = type(rule._converters[name]).__name__.removeprefix("Bounded")
        if rule.endpoint in STATIC_FILES:
            values[name] = STATIC_FILES[rule.endpoint]
        elif converter in ("IntegerConverter", "FloatConverter"):
            values[name] = {"user_id": ids["staff"], "attachment_id": ids["attachment"]}.get(name, 1)
        elif converter == "UUIDConverter":
            values[name] = "00000000-0000-0000-0000-000000000000"
        elif converter == "AnyConverter":
            values[name] = rule._converters[name].items[0] if hasattr(rule._converters[name], "items") else "x"
        elif converter == "PathConverter":
            values[name] = "x/y"
        else:
            values[name] = ids["reference"]
    return values


def _routes(app, ids: dict):
    """(endpoint, method, url) for every rule and every method it accepts, OPTIONS aside.

    OPTIONS is answered by Flask itself from the rule's method list; no view runs.
    """
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        built = rule.build(_dummy_values(rule, ids), append_unknown=False)
        assert built is not None, rule
        url = built[1]
        for method in sorted(rule.methods - {"OPTIONS"}):
            yield rule.endpoint, method, url


def _login_redirect(response) -> bool:
    if response.status_code not in (301, 302, 303, 307, 308):
        return False
    return urlsplit(response.headers["Location"]).path == "/login"


# -- login on every route ------------------------------------------------------------------------------

def test_anonymous_requests_to_every_route_are_sent_to_login_or_get_401(app, people):
    client = app.test_client()
    public, wrong = set(), []
    seen_endpoints = set()
    for endpoint, method, url in _routes(app, people):
        seen_endpoints.add(endpoint)
        response = client.open(url, method=method)
        if url.startswith("/api/") and endpoint not in PUBLIC_ENDPOINTS:
            if response.status_code != 401:
                wrong.append((method, url, response.status_code))
            elif method != "HEAD":
                assert response.is_json and "error" in response.get_json(), (method, url)
                assert response.headers["WWW-Authenticate"].lower().startswith("bearer")
            continue
        if _login_redirect(response):
            # The login page brings them back where they were going.
            if method in ("GET", "HEAD") and endpoint != "auth.login_totp":  # itself a step of the login
                assert parse_qs(urlsplit(response.headers["Location"]).query).get("next"), (method, url)
            continue
        public.add(endpoint)
        if endpoint not in PUBLIC_ENDPOINTS:
            wrong.append((method, url, response.status_code))
    assert wrong == [], "reachable without login"
    # The exemption list is exactly what is public: no more, and nothing in it has gone missing.
    assert public == PUBLIC_ENDPOINTS
    assert PUBLIC_ENDPOINTS <= seen_endpoints


def test_public_static_files_are_served_by_the_app_itself(client):
    for endpoint, filename in STATIC_FILES.items():
        prefix = "/static/" if endpoint == "static" else "/bootstrap/static/"
        response = client.get(prefix + filename)
        assert response.status_code == 200, prefix + filename
        assert b"{" in response.data  # a stylesheet, not an error page


def test_anonymous_api_with_a_bad_token_gets_401(client, people):
    response = client.get(f"/api/v1/cases/{people['reference']}",
                          headers={"Authorization": "Bearer dsr_not-a-real-token"})
    assert response.status_code == 401
    assert response.is_json


# -- CSRF ----------------------------------------------------------------------------------------------

def test_intake_post_without_csrf_token_is_refused_and_stores_nothing(app, client, people, csrf_on):
    login_with_token(client)
    before = stored_counts(app)
    response = client.post("/cases/new", data=intake_data(name="Çelik"))
    assert response.status_code == 400
    assert b"did not come from this site" in response.data
    assert stored_counts(app) == before


def test_intake_post_with_the_token_from_the_form_is_accepted(app, client, people, csrf_on):
    login_with_token(client)
    token = csrf_token(client.get("/cases/new").get_data(as_text=True))
    response = client.post("/cases/new", data=intake_data(name="Çelik", csrf_token=token))
    assert response.status_code == 302
    assert "/cases/DSR-2026-" in response.headers["Location"]
    with app.app_context():
        assert db.session.execute(sa.text("SELECT count(*) FROM data_subjects WHERE name = 'Çelik'")).scalar_one() == 1


def login_with_token(client, role: Role = Role.STAFF) -> None:
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": f"{role.value}@harmony.test", "password": PASSWORDS[role],
                                           "csrf_token": token})
    assert response.status_code == 302, response.data[:500]


def test_login_without_csrf_token_is_refused(client, people, csrf_on):
    client.get("/login")
    response = client.post("/login", data={"email": "staff@harmony.test", "password": PASSWORDS[Role.STAFF]})
    assert response.status_code == 400
    assert _login_redirect(client.get("/cases"))


def test_login_with_a_token_from_another_session_is_refused(app, people, csrf_on):
    other = app.test_client()
    token = csrf_token(other.get("/login").get_data(as_text=True))
    client = app.test_client()
    client.get("/login")
    response = client.post("/login", data={"email": "staff@harmony.test", "password": PASSWORDS[Role.STAFF],
                                           "csrf_token": token})
    assert response.status_code == 400
    assert _login_redirect(client.get("/cases"))


def test_login_with_csrf_token_works(client, people, csrf_on):
    login_with_token(client)
    assert client.get("/cases").status_code == 200


def test_logout_without_csrf_token_is_refused(client, people, csrf_on):
    login_with_token(client)
    assert client.post("/logout").status_code == 400
    assert client.get("/cases").status_code == 200  # still logged in


def test_logout_with_the_token_from_the_page_works(client, people, csrf_on):
    login_with_token(client)
    token = csrf_token(client.get("/cases").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert _login_redirect(client.get("/cases"))


def test_user_creation_without_csrf_token_is_refused(app, client, people, csrf_on):
    login_with_token(client, Role.PRIVACY_MANAGER)
    response = client.post("/users/", data={"email": "new@harmony.nl", "name": "New", "role": "staff",
                                            "password": "a-long-password-1"})
    assert response.status_code == 400
    assert _user(app, "new@harmony.nl") is None


def test_user_creation_with_csrf_token_works(app, client, people, csrf_on):
    login_with_token(client, Role.PRIVACY_MANAGER)
    token = csrf_token(client.get("/users/").get_data(as_text=True))
    response = client.post("/users/", data={"email": "new@harmony.nl", "name": "New", "role": "staff",
                                            "password": "a-long-password-1", "csrf_token": token})
    assert response.status_code == 302
    assert _user(app, "new@harmony.nl") is not None


def test_toggling_a_user_without_csrf_token_is_refused(app, client, people, csrf_on):
    login_with_token(client, Role.PRIVACY_MANAGER)
    assert client.post(f"/users/{people['staff']}/active").status_code == 400
    assert _user(app, "staff@harmony.test").active is True


def _user(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.email == email)).scalar_one_or_none()
        if user is not None:
            db.session.expunge(user)
        return user


# -- roles ---------------------------------------------------------------------------------------------

NEW_USER = {"email": "intruder@harmony.nl", "name": "Intruder", "role": "privacy_manager",
            "password": "a-long-password-1"}


def test_staff_gets_403_on_the_users_page(app, client, people):
    login(client, Role.STAFF)
    assert client.get("/users/").status_code == 403
    assert client.post("/users/", data=NEW_USER).status_code == 403
    assert _user(app, NEW_USER["email"]) is None


def test_staff_gets_403_when_toggling_a_user(app, client, people):
    login(client, Role.STAFF)
    response = client.post(f"/users/{people['manager']}/active")
    assert response.status_code == 403
    assert _user(app, "privacy_manager@harmony.test").active is True


def test_staff_does_not_see_the_users_link(client, people):
    login(client, Role.STAFF)
    assert 'href="/users/"' not in client.get("/cases").get_data(as_text=True)


def test_auditor_gets_403_on_every_state_changing_route(app, client, people):
    login(client, Role.AUDITOR)
    before = stored_counts(app)
    users_before = _user_states(app)
    checked, allowed = [], []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SELF_SERVICE_ENDPOINTS or rule.rule.startswith("/api/") or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        if rule.endpoint in READ_ONLY_POSTS:
            continue
        writes = sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"})
        reads = ["GET"] if rule.endpoint in WRITE_ONLY_PAGES and "GET" in rule.methods else []
        url = rule.build(_dummy_values(rule, people), append_unknown=False)[1]
        for method in writes + reads:
            data = {**intake_data(), **NEW_USER} if method != "GET" else None
            response = client.open(url, method=method, data=data)
            checked.append((method, url))
            if response.status_code != 403:
                allowed.append((method, url, response.status_code))
    assert allowed == []
    # The routes this test knows must exist, or it checks nothing.
    assert ("POST", "/cases/new") in checked and ("POST", "/users/") in checked
    assert ("POST", f"/users/{people['staff']}/active") in checked
    assert stored_counts(app) == before
    assert _user_states(app) == users_before


def _user_states(app) -> dict:
    with app.app_context():
        return dict(db.session.execute(sa.select(User.email, User.active)).all())


def test_auditor_can_read_the_queue_the_case_and_its_scan(client, people):
    login(client, Role.AUDITOR)
    queue = client.get("/cases")
    assert queue.status_code == 200
    assert people["reference"] in queue.get_data(as_text=True)
    page = client.get(f"/cases/{people['reference']}")
    assert page.status_code == 200
    assert "Zoë Van den Broeck" in page.get_data(as_text=True)
    assert client.get(f"/attachments/{people['attachment']}/download").status_code == 200
    # The auditor is not offered what they may not do.
    assert 'href="/cases/new"' not in queue.get_data(as_text=True)


def test_auditor_api_token_may_read_but_not_create(app, client, people):
    with app.app_context():
        auditor = db.session.get(User, people["auditor"])
        token = issue_api_token(auditor, actor=None, now=NOW)
        db.session.commit()
    before = stored_counts(app)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/cases/{people['reference']}", headers=headers).status_code == 200
    response = client.post("/api/v1/cases", headers=headers, json={
        "rights": ["access"], "subject": {"name": "Çelik", "email": "celik@example.nl"}})
    assert response.status_code == 403
    assert response.is_json
    assert stored_counts(app) == before


# -- login ---------------------------------------------------------------------------------------------

def _failed_login_page(app, email: str, password: str) -> str:
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 200
    assert _login_redirect(client.get("/cases")), "a failed login must not log in"
    # The typed e-mail is echoed back in the form; everything else must be the same page.
    return response.get_data(as_text=True).replace(email, "EMAIL")


def test_login_failure_says_the_same_for_unknown_email_wrong_password_and_deactivated_user(app, people):
    with app.app_context():
        gone = make_user(Role.STAFF, email="gone@harmony.test")
        set_active(gone, False, actor=db.session.get(User, people["manager"]), now=NOW)
        db.session.commit()
    unknown = _failed_login_page(app, "nobody@harmony.test", PASSWORDS[Role.STAFF])
    wrong = _failed_login_page(app, "staff@harmony.test", "not-the-password")
    deactivated = _failed_login_page(app, "gone@harmony.test", PASSWORDS[Role.STAFF])
    assert ("danger", GENERIC_LOGIN_FAILURE) in flashes(unknown)
    assert unknown == wrong == deactivated


def test_login_is_case_insensitive_on_the_email(client, people):
    response = client.post("/login", data={"email": " Staff@Harmony.TEST ", "password": PASSWORDS[Role.STAFF]})
    assert response.status_code == 302


def test_anonymous_visitor_returns_to_the_page_asked_for_after_login(client, people):
    target = f"/cases/{people['reference']}"
    to_login = client.get(target)
    assert _login_redirect(to_login)
    response = client.post(to_login.headers["Location"],
                           data={"email": "staff@harmony.test", "password": PASSWORDS[Role.STAFF]})
    assert response.status_code == 302
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/\t/evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
])
def test_next_parameter_cannot_redirect_off_site(client, people, target):
    response = client.post("/login", query_string={"next": target},
                           data={"email": "staff@harmony.test", "password": PASSWORDS[Role.STAFF]})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert browser_target(location) == ("http", "localhost"), location


def test_next_parameter_keeps_a_same_site_path_with_its_query(client, people):
    response = client.post("/login", query_string={"next": "/cases?state=open&right=access"},
                           data={"email": "staff@harmony.test", "password": PASSWORDS[Role.STAFF]})
    assert response.headers["Location"] == "/cases?state=open&right=access"


def test_deactivated_user_is_logged_out_of_an_open_session(app, client, people):
    login(client, Role.STAFF)
    assert client.get("/cases").status_code == 200
    with app.app_context():
        set_active(db.session.get(User, people["staff"]), False,
                   actor=db.session.get(User, people["manager"]), now=NOW)
        db.session.commit()
    assert _login_redirect(client.get("/cases"))


# -- headers -------------------------------------------------------------------------------------------

def _csp(response) -> dict[str, str]:
    policy = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


def test_security_headers_on_pages_errors_downloads_and_api(client, people):
    anonymous = [client.get("/login"), client.get("/api/v1/cases")]
    login(client, Role.STAFF)
    responses = anonymous + [
        client.get("/cases"),
        client.get(f"/cases/{people['reference']}"),
        client.get("/cases/DSR-1999-99999"),
        client.get(f"/attachments/{people['attachment']}/download"),
    ]
    for response in responses:
        csp = _csp(response)
        assert csp.get("default-src") == "'self'", response.request.path
        assert csp.get("script-src") == "'self'"
        assert csp.get("object-src") == "'none'"
        assert csp.get("frame-ancestors") == "'none'"
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        assert "http" not in response.headers["Content-Security-Policy"]
        assert response.headers.get("X-Content-Type-Options") == "nosniff"


def test_pages_need_nothing_the_policy_forbids(client, people):
    """No CDN, no inline script, style attribute or event handler: the strict CSP would block them."""
    pages = [client.get("/login").get_data(as_text=True)]
    login(client, Role.PRIVACY_MANAGER)
    for path in ("/cases", f"/cases/{people['reference']}", "/cases/new", "/users/", "/preferences"):
        response = client.get(path)
        assert response.status_code == 200, path
        pages.append(response.get_data(as_text=True))
    for html in pages:
        assert not re.search(r'(src|href)="(https?:)?//', html)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
        assert not re.search(r"\sstyle=", html), "inline style attribute"
        assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def test_session_cookie_is_http_only_and_same_site(client, people):
    response = login(client, Role.STAFF)
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_download_is_not_cached(client, people):
    login(client, Role.STAFF)
    response = client.get(f"/attachments/{people['attachment']}/download")
    assert response.headers["Cache-Control"] == "no-store"


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


# The one deliberate exception: the inline scan is framed by dsr's own viewer page, so it may be framed by
# 'self' (and nothing else) and loads nothing itself (dsr/attachments/views.py, INLINE_CSP).
FRAMABLE_ENDPOINTS = {"attachments.inline"}


def _check_headers(response, where: str, *, framable: bool = False) -> None:
    csp = _csp(response)
    if framable:
        assert csp.get("frame-ancestors") == "'self'" and csp.get("default-src") == "'none'", where
    else:
        assert csp.get("frame-ancestors") == "'none'" and csp.get("default-src") == "'self'", where
    expected = {**SECURITY_HEADERS, "X-Frame-Options": "SAMEORIGIN"} if framable else SECURITY_HEADERS
    for name, value in expected.items():
        assert response.headers.get(name) == value, (where, name)
    assert "camera=()" in response.headers.get("Permissions-Policy", ""), where


def test_every_route_answers_with_the_security_headers_and_pages_are_not_stored(app, people):
    """Issue 17, acceptance 6: every answer to every route (pages, redirects, errors, API, files) carries the
    headers, and nothing but the static assets may be kept by a browser or proxy (Cache-Control: no-store)."""
    manager = app.test_client()
    login(manager, Role.PRIVACY_MANAGER)
    anonymous = app.test_client()
    checked = 0
    for endpoint, method, url in _routes(app, people):
        if method not in ("GET", "POST") or endpoint in ("auth.logout",):
            continue
        for client in (anonymous, manager):
            response = client.open(url, method=method)
            where = f"{method} {url} -> {response.status_code}"
            _check_headers(response, where,
                           framable=endpoint in FRAMABLE_ENDPOINTS and response.status_code == 200)
            if endpoint in ("static", "bootstrap.static"):
                assert "no-store" not in response.headers.get("Cache-Control", ""), where
            else:
                assert response.headers.get("Cache-Control") == "no-store", where
            checked += 1
    assert checked > 60  # every route, both ways
    for response in (anonymous.get("/no/such/page"), manager.get("/no/such/page"),
                     manager.get(f"/attachments/{people['attachment']}/download")):
        _check_headers(response, response.request.path)
        assert response.headers["Cache-Control"] == "no-store"


def test_the_security_headers_follow_the_view_s_own_once_each_in_their_order(app, people):
    """A header the view set is kept (not set again), the others are added after the view's own, each once."""
    with app.app_context():
        token = issue_api_token(db.session.get(User, people["manager"]), actor=None, now=NOW)
        db.session.commit()
    body = {"rights": ["access"], "channel": "email", "subject": {"name": "Jan", "email": "jan@example.nl"}}
    created = app.test_client().post("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}, json=body)
    assert created.status_code == 201
    assert [name for name, _ in created.headers] == [
        "Content-Type", "Content-Length", "Location", "Content-Security-Policy", "X-Content-Type-Options",
        "Referrer-Policy", "X-Frame-Options", "Cross-Origin-Opener-Policy", "Permissions-Policy",
        "Cache-Control", "Vary"]
    framed = app.test_client()
    login(framed, Role.STAFF)
    inline = framed.get(f"/attachments/{people['attachment']}/inline")
    assert inline.status_code == 200
    names = [name.lower() for name, _ in inline.headers]
    assert names.count("x-frame-options") == 1 and inline.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert names.count("content-security-policy") == 1 and "frame-ancestors 'self'" in inline.headers[
        "Content-Security-Policy"]


def test_production_adds_strict_transport_security(app, people, monkeypatch):
    from dsr import create_app

    monkeypatch.setenv("DSR_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.setenv("SUPPRESSION_SALT", "p" * 32)
    prod = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                       "INSTANCE_PATH": app.config["INSTANCE_PATH"], "STORAGE_DIR": app.config["STORAGE_DIR"]})
    try:
        response = prod.test_client().get("/login")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert "Strict-Transport-Security" not in app.test_client().get("/login").headers
    finally:
        with prod.app_context():
            db.session.remove()
            db.engine.dispose()
        from dsr.extensions import limiter

        limiter.init_app(app)
