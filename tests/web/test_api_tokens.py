"""API tokens (issue 17, acceptance 5): a name, an expiry, a last-used time; revocable by their owner or a
privacy manager; read-only tokens read and change nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from dsr.audit.models import AuditEvent
from dsr.auth.models import ApiToken
from dsr.auth.operations import hash_token, issue_api_token
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.conftest import NOW
from tests.factories import login, make_case
from tests.web.support import frozen_clock, make_users_of_every_role


@pytest.fixture
def app(backend_app):
    return backend_app


@pytest.fixture(autouse=True)
def _clock():
    yield from frozen_clock()


@pytest.fixture
def users(app):
    with app.app_context():
        made = make_users_of_every_role()
        reference = make_case(actor=made[Role.STAFF]).reference
        return {**{role: u.id for role, u in made.items()}, "reference": reference}


def _make(client, **data) -> str:
    response = client.post("/account/tokens", data={"name": "scanner", "days": "30", **data})
    assert response.status_code == 200, response.data[:500]
    return re.search(r"<code>(dsr_[^<]+)</code>", response.get_data(as_text=True)).group(1)


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _row(app, token: str) -> ApiToken:
    with app.app_context():
        row = db.session.execute(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token))).scalar_one()
        db.session.expunge(row)
        return row


NEW_CASE = {"rights": ["access"], "channel": "email", "received_on": "2026-11-25", "language": "en",
            "subject": {"name": "Jan Jansen", "email": "jan@example.nl"}}


def test_a_user_makes_a_named_token_with_an_expiry_shown_once(app, users, _clock):
    client = app.test_client()
    login(client, Role.STAFF)
    token = _make(client, name="Post room scanner")
    row = _row(app, token)
    assert (row.name, row.expires_at, row.read_only, row.last_used_at) == ("Post room scanner",
                                                                          NOW + timedelta(days=30), False, None)
    assert token not in row.token_hash and row.token_hash == hash_token(token)
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "Post room scanner" in page and row.prefix in page and token not in page  # shown once only

    _clock.shift(timedelta(hours=2))
    assert app.test_client().get(f"/api/v1/cases/{users['reference']}", headers=_bearer(token)).status_code == 200
    assert _row(app, token).last_used_at == NOW + timedelta(hours=2)

    # Expired a second after its expiry.
    _clock.move_to(NOW + timedelta(days=30, seconds=1))
    response = app.test_client().get(f"/api/v1/cases/{users['reference']}", headers=_bearer(token))
    assert response.status_code == 401 and "expired" in response.get_json()["error"]
    login(client, Role.STAFF)  # the browser session itself ended long ago (idle)
    assert "expired" in client.get("/account/tokens").get_data(as_text=True)


@pytest.mark.parametrize(("days", "status"), [("0", 400), ("367", 400), ("x", 400), ("366", 200)])
def test_the_expiry_is_bounded(app, users, days, status):
    client = app.test_client()
    login(client, Role.STAFF)
    assert client.post("/account/tokens", data={"name": "n", "days": days}).status_code == status


def test_a_read_only_token_reads_and_changes_nothing(app, users):
    client = app.test_client()
    login(client, Role.STAFF)
    token = _make(client, read_only="y")
    api = app.test_client()
    assert api.get(f"/api/v1/cases/{users['reference']}", headers=_bearer(token)).status_code == 200
    assert api.get("/api/v1/cases", headers=_bearer(token)).status_code == 200
    response = api.post("/api/v1/cases", json=NEW_CASE, headers=_bearer(token))
    assert response.status_code == 403 and response.get_json()["error"] == "This token is read-only."
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(sa.table("cases"))).scalar_one() == 1
    # The same user's read-write token may write.
    writer = _make(client)
    assert api.post("/api/v1/cases", json=NEW_CASE, headers=_bearer(writer)).status_code == 201


def test_the_owner_revokes_a_token(app, users):
    client = app.test_client()
    login(client, Role.STAFF)
    token = _make(client)
    row = _row(app, token)
    assert client.post(f"/tokens/{row.id}/revoke").status_code == 302
    assert app.test_client().get("/api/v1/cases", headers=_bearer(token)).status_code == 401
    row = _row(app, token)
    assert row.revoked_at == NOW and row.revoked_by_id == users[Role.STAFF]
    with app.app_context():
        actions = db.session.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
    assert actions[-2:] == ["api_token.issued", "api_token.revoked"]


def test_a_privacy_manager_sees_and_revokes_anyones_token_and_others_may_not(app, users):
    staff = app.test_client()
    login(staff, Role.STAFF)
    token = _make(staff, name="staff's scanner")
    row = _row(app, token)
    auditor = app.test_client()
    login(auditor, Role.AUDITOR)
    assert auditor.post(f"/tokens/{row.id}/revoke").status_code == 403
    assert auditor.get("/users/tokens").status_code == 403
    assert "staff's scanner" not in auditor.get("/account/tokens").get_data(as_text=True)
    assert _row(app, token).revoked_at is None

    manager = app.test_client()
    login(manager, Role.PRIVACY_MANAGER)
    page = manager.get("/users/tokens").get_data(as_text=True)
    assert "staff&#39;s scanner" in page and "staff@harmony.test" in page
    response = manager.post(f"/tokens/{row.id}/revoke", data={"back": "everyone"})
    assert response.headers["Location"] == "/users/tokens"
    assert _row(app, token).revoked_by_id == users[Role.PRIVACY_MANAGER]
    assert app.test_client().get("/api/v1/cases", headers=_bearer(token)).status_code == 401


def test_a_deactivated_users_tokens_stop_working(app, users):
    with app.app_context():
        from dsr.auth.models import User

        token = issue_api_token(db.session.get(User, users[Role.STAFF]), actor=None, now=NOW, name="x")
        db.session.commit()
    assert app.test_client().get("/api/v1/cases", headers=_bearer(token)).status_code == 200
    manager = app.test_client()
    login(manager, Role.PRIVACY_MANAGER)
    manager.post(f"/users/{users[Role.STAFF]}/active")
    assert app.test_client().get("/api/v1/cases", headers=_bearer(token)).status_code == 401


def test_the_console_makes_named_read_only_tokens(app, users, runner):
    result = runner.invoke(args=["dsr", "api-token", "auditor@harmony.test", "--name", "BI export", "--days", "7",
                                 "--read-only"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    row = _row(app, token)
    assert (row.name, row.read_only, row.expires_at) == ("BI export", True, NOW + timedelta(days=7))
