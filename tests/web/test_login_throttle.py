"""Throttled logins (issue 17, acceptance 2): failed logins are limited per account and per address
(Flask-Limiter), answered 429 with one message whether or not the account exists; every failed and
successful login is recorded (who, when, from where) and shown to privacy managers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa
import time_machine

from dsr.auth.models import LoginAttempt
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.conftest import NOW, REDIS_URL
from tests.factories import PASSWORDS, login, make_user
from tests.web.support import flashes

THROTTLED = "Too many failed logins. Wait a quarter of an hour and try again."
WRONG = "The e-mail address or password is not correct."


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def users(app):
    with app.app_context():
        return {role: make_user(role).id for role in Role}


def _try(client, email, password="not-the-password", address="198.51.100.7"):
    response = client.post("/login", data={"email": email, "password": password},
                           environ_base={"REMOTE_ADDR": address, "HTTP_USER_AGENT": "Testbrowser/1.0"})
    messages = flashes(response.get_data(as_text=True))
    return response.status_code, [text for _cat, text in messages]


def _attempts(app):
    with app.app_context():
        rows = db.session.execute(sa.select(LoginAttempt).order_by(LoginAttempt.id)).scalars().all()
        return [(a.email, a.user_id, a.succeeded, a.outcome, a.address, a.user_agent, a.at) for a in rows]


def test_an_account_is_throttled_after_five_failures_even_with_the_right_password(app, users):
    client = app.test_client()
    for _ in range(5):
        assert _try(client, "staff@harmony.test") == (200, [WRONG])
    assert _try(client, "staff@harmony.test") == (429, [THROTTLED])
    assert _try(client, "staff@harmony.test", PASSWORDS[Role.STAFF]) == (429, [THROTTLED])
    # Another account from the same address is not affected by this account's limit.
    assert _try(client, "auditor@harmony.test", PASSWORDS[Role.AUDITOR])[0] == 302


def test_an_unknown_account_gets_the_same_answers(app, users):
    client = app.test_client()
    for _ in range(5):
        assert _try(client, "nobody@harmony.test") == (200, [WRONG])
    assert _try(client, "nobody@harmony.test") == (429, [THROTTLED])


def test_successful_logins_do_not_count(app, users):
    for _ in range(8):
        client = app.test_client()
        assert _try(client, "staff@harmony.test", PASSWORDS[Role.STAFF])[0] == 302


def test_the_account_key_ignores_case_and_spaces(app, users):
    client = app.test_client()
    for email in ["staff@harmony.test", "STAFF@harmony.test", " Staff@Harmony.Test ", "staff@HARMONY.test",
                  "staff@harmony.TEST"]:
        assert _try(client, email)[0] == 200
    assert _try(client, "staff@harmony.test")[0] == 429


def test_an_address_is_throttled_across_accounts(app, users, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_ADDRESS", "3 per 15 minutes")
    client = app.test_client()
    for n in range(3):
        assert _try(client, f"guess{n}@harmony.test", address="203.0.113.9")[0] == 200
    assert _try(client, "staff@harmony.test", PASSWORDS[Role.STAFF], address="203.0.113.9") == (429, [THROTTLED])
    # From another address the same account logs in.
    assert _try(client, "staff@harmony.test", PASSWORDS[Role.STAFF], address="203.0.113.10")[0] == 302


def test_every_login_is_recorded_with_who_when_and_where(app, users):
    client = app.test_client()
    _try(client, "Staff@Harmony.test")
    _try(client, "nobody@harmony.test")
    with app.app_context():
        from dsr.auth.models import User

        db.session.get(User, users[Role.AUDITOR]).active = False
        db.session.commit()
    _try(client, "auditor@harmony.test", PASSWORDS[Role.AUDITOR])
    assert _try(client, "staff@harmony.test", PASSWORDS[Role.STAFF])[0] == 302
    ua = "Testbrowser/1.0"
    assert _attempts(app) == [
        ("staff@harmony.test", users[Role.STAFF], False, "bad_credentials", "198.51.100.7", ua, NOW),
        ("nobody@harmony.test", None, False, "bad_credentials", "198.51.100.7", ua, NOW),
        ("auditor@harmony.test", users[Role.AUDITOR], False, "inactive", "198.51.100.7", ua, NOW),
        ("staff@harmony.test", users[Role.STAFF], True, "ok", "198.51.100.7", ua, NOW),
    ]


def test_throttled_tries_are_recorded_too(app, users):
    client = app.test_client()
    for _ in range(6):
        _try(client, "nobody@harmony.test")
    assert [a[3] for a in _attempts(app)] == ["bad_credentials"] * 5 + ["throttled"]


def test_privacy_managers_see_the_logins_and_others_do_not(app, users):
    client = app.test_client()
    _try(client, "nobody@harmony.test", address="192.0.2.55")
    manager = app.test_client()
    login(manager, Role.PRIVACY_MANAGER)
    page = manager.get("/users/logins").get_data(as_text=True)
    assert "nobody@harmony.test" in page and "192.0.2.55" in page and "(no such account)" in page
    assert "wrong e-mail or password" in page
    failed = manager.get("/users/logins?failed=1").get_data(as_text=True)
    assert "nobody@harmony.test" in failed and "manager@harmony.test" not in failed
    only = manager.get("/users/logins?email=manager@harmony.test").get_data(as_text=True)
    assert "nobody@harmony.test" not in only and "manager@harmony.test" in only
    for role in (Role.STAFF, Role.AUDITOR):
        other = app.test_client()
        login(other, role)
        assert other.get("/users/logins").status_code == 403


_WORKER = r"""
import os, sys
from dsr import create_app
from dsr.extensions import db
app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "x",
                  "SQLALCHEMY_DATABASE_URI": os.environ["DB"], "INSTANCE_PATH": os.environ["INST"],
                  "STORAGE_DIR": os.environ["INST"] + "/storage", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                  "RATELIMIT_STORAGE_URI": os.environ["REDIS"], "RATELIMIT_KEY_PREFIX": os.environ["PREFIX"]})
client = app.test_client()
codes = [client.post("/login", data={"email": "staff@harmony.test", "password": "wrong-wrong-wrong"}).status_code
         for _ in range(int(sys.argv[1]))]
print(" ".join(map(str, codes)))
"""


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="DSR_TEST_REDIS_URL is not set")
def test_with_redis_two_processes_count_the_same_failures(app, users, tmp_path):
    """Production keeps the counters in Redis: two worker processes share them."""
    env = {**os.environ, "DB": app.config["SQLALCHEMY_DATABASE_URI"], "INST": str(tmp_path),
           "REDIS": REDIS_URL, "PREFIX": f"dsr-test-{uuid.uuid4().hex[:8]}"}

    def worker(n):
        done = subprocess.run([sys.executable, "-c", _WORKER, str(n)], env=env, capture_output=True, text=True,
                              timeout=120, cwd=os.getcwd())
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.split()

    assert worker(3) == ["200"] * 3
    assert worker(3) == ["200", "200", "429"]
    import redis

    keys = redis.Redis.from_url(REDIS_URL).keys("*" + env["PREFIX"] + "*")
    assert keys
    redis.Redis.from_url(REDIS_URL).delete(*keys)


def test_the_check_before_every_request_is_left_out_only_while_routes_alone_carry_limits(app):
    """dsr's limits are on the login's routes, checked by their decorators: the limiter's check before every
    request found nothing to apply and is left out (issue 15, item 3); a default, application or blueprint
    limit keeps it, and every kind of limit still holds."""
    from flask import Blueprint, Flask
    from flask_limiter import Limiter

    from dsr.extensions import limiter, limits_on_routes_only

    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])

    def made(**options) -> tuple[Flask, Limiter]:
        flask_app = Flask(__name__)
        flask_app.config["RATELIMIT_STORAGE_URI"] = "memory://"
        own = Limiter(key_func=lambda: "one", **options)
        own.init_app(flask_app)
        flask_app.add_url_rule("/open", "open", lambda: "open")
        def limited():
            return "limited"

        flask_app.add_url_rule("/limited", "limited", own.limit("2/minute")(limited))
        return flask_app, own

    routes_only, own = made()
    assert limits_on_routes_only(routes_only, own)
    assert own._check_request_limit not in routes_only.before_request_funcs[None]
    client = routes_only.test_client()
    assert [client.get("/limited").status_code for _ in range(3)] == [200, 200, 429]
    assert {client.get("/open").status_code for _ in range(5)} == {200}

    with_default, own = made(default_limits=["3/minute"])
    assert not limits_on_routes_only(with_default, own)
    client = with_default.test_client()
    assert [client.get("/open").status_code for _ in range(4)] == [200, 200, 200, 429]

    with_application, own = made(application_limits=["1/minute"])
    assert not limits_on_routes_only(with_application, own)
    client = with_application.test_client()
    assert [client.get("/open").status_code for _ in range(2)] == [200, 429]

    with_blueprint, own = made()
    part = Blueprint("part", __name__)
    part.add_url_rule("/in-part", "in_part", lambda: "in part")
    own.limit("1/minute")(part)
    with_blueprint.register_blueprint(part)
    assert not limits_on_routes_only(with_blueprint, own)
    client = with_blueprint.test_client()
    assert [client.get("/in-part").status_code for _ in range(2)] == [200, 429]
