"""Every route × {anonymous, auditor, staff, privacy manager} × {GET, POST}, against the one declared table
in tests/web/access_table.py (issue 17, acceptance 7). A route without an entry fails here."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import time_machine

from dsr.auth.models import ApiToken, User
from dsr.auth.operations import issue_api_token
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.conftest import NOW
from tests.factories import PASSWORDS, make_case, make_user
from tests.web.access_table import ACCESS, ANONYMOUS, WHO

STATIC_FILES = {"static": "css/dsr.css", "bootstrap.static": "css/bootstrap.min.css", "letters.asset": "letter.css"}
# After these, the client is no longer the same session: it is made anew for the next request.
ENDS_THE_SESSION = {"auth.logout"}


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(app):
    """One user per role, a colleague to act on (deactivate, reset, revoke), a case and bearer tokens."""
    with app.app_context():
        users = {role: make_user(role) for role in Role}
        target = make_user(Role.STAFF, "colleague@harmony.test")
        case = make_case(actor=users[Role.STAFF])
        issue_api_token(target, actor=None, now=NOW, name="colleague's")
        bearer = {role.value: issue_api_token(users[role], actor=None, now=NOW, name="t") for role in Role}
        db.session.commit()
        token_id = db.session.execute(sa.select(ApiToken.id).where(ApiToken.user_id == target.id)).scalar_one()
        return {"reference": case.reference, "user_id": target.id, "token_id": token_id, "bearer": bearer}


def _values(rule, world) -> dict:
    values = {}
    for name in rule.arguments:
        converter = type(rule._converters[name]).__name__.removeprefix("Bounded")
        if name == "filename":
            values[name] = STATIC_FILES.get(rule.endpoint, "x.css")
        elif name in ("user_id", "token_id"):
            values[name] = world[name]
        elif converter == "IntegerConverter":
            values[name] = 1
        elif name == "reference":
            values[name] = world["reference"]
        else:
            values[name] = "x"
    return values


def _client(app, who: str):
    client = app.test_client()
    if who != ANONYMOUS:
        response = client.post("/login", data={"email": f"{who}@harmony.test", "password": PASSWORDS[Role(who)]})
        assert response.status_code == 302
    return client


def _refused(response, who: str, api: bool) -> bool:
    if who == ANONYMOUS:
        if api:
            return response.status_code == 401
        return response.status_code == 302 and response.headers["Location"].startswith("/login")
    return response.status_code == 403


def test_every_route_has_exactly_one_entry_with_its_methods(app):
    rules = {}
    for rule in app.url_map.iter_rules():
        rules.setdefault(rule.endpoint, set()).update(rule.methods & {"GET", "POST"})
    missing = sorted(set(rules) - set(ACCESS))
    assert not missing, f"routes without an entry in tests/web/access_table.py: {missing}"
    stale = sorted(set(ACCESS) - set(rules))
    assert not stale, f"entries for routes that no longer exist: {stale}"
    wrong = {e: sorted(rules[e]) for e in rules if set(ACCESS[e]) != rules[e]}
    assert not wrong, f"the table's methods differ from the routes' (route: its methods): {wrong}"


def test_every_route_answers_every_role_as_the_table_declares(app, world):
    clients = {who: _client(app, who) for who in WHO}
    mismatches, checked = [], 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        url = rule.build(_values(rule, world), append_unknown=False)[1]
        api = url.startswith("/api/")
        for method in sorted(rule.methods & {"GET", "POST"}):
            for who in WHO:
                headers = {}
                if api and who != ANONYMOUS:
                    headers["Authorization"] = f"Bearer {world['bearer'][who]}"
                client = app.test_client() if api else clients[who]
                response = client.open(url, method=method, headers=headers, data={} if method == "POST" else None)
                checked += 1
                may = who in ACCESS[rule.endpoint][method]
                refused = _refused(response, who, api)
                assert response.status_code < 500, (method, url, who, response.status_code)
                if may == refused:
                    mismatches.append(f"{method} {url} as {who}: {response.status_code} "
                                      f"({'refused' if refused else 'let through'}; the table says "
                                      f"{'may' if may else 'may not'})")
                if rule.endpoint in ENDS_THE_SESSION and not api:
                    clients[who] = _client(app, who)
    assert not mismatches, "\n".join(mismatches)
    assert checked >= 4 * len(ACCESS)
    # The colleague the managers acted on really was acted on: the POSTs ran, not just their checks.
    with app.app_context():
        colleague = db.session.get(User, world["user_id"])
        assert colleague.must_change_password
        assert db.session.get(ApiToken, world["token_id"]).revoked_at is not None
