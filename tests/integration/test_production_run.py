"""The production run of docs/deploy.md, started for real (issue 15, item 5): gunicorn with two workers and two
RQ workers against PostgreSQL and Redis on loopback ports. A case is logged through the API, a letter is
issued from the case page and made by a worker, then everything is stopped with SIGTERM, as systemd does,
and each process must be gone within 10 seconds.

Needs DSR_TEST_DATABASE_URL and DSR_TEST_REDIS_URL (a schema and an RQ queue of its own; both removed after).
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL, REDIS_URL, _drop_schema, _with_search_path

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]

pytestmark = [
    pytest.mark.postgres, pytest.mark.redis,
    pytest.mark.skipif(not (PG_URL and REDIS_URL), reason="needs DSR_TEST_DATABASE_URL and DSR_TEST_REDIS_URL"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "gunicorn exited at start"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not listen")


def _stop(proc: subprocess.Popen) -> float:
    """SIGTERM, then the seconds until the process was gone (killed after 30 s so the test never hangs)."""
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return 999.0
    return time.monotonic() - start


@pytest.fixture
def environment(tmp_path):
    schema = f"dsr_prod_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    queue = f"dsr-smoke-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _with_search_path(PG_URL, schema), "REDIS_URL": REDIS_URL,
           "DSR_RQ_QUEUE": queue, "SECRET_KEY": secrets.token_hex(16), "SUPPRESSION_SALT": secrets.token_hex(16),
           "DSR_INSTANCE_PATH": str(tmp_path / "instance"), "STORAGE_DIR": str(tmp_path / "shared-storage")}
    for name in ("DSR_TEST_DATABASE_URL", "DSR_TEST_REDIS_URL", "DSR_ENV"):
        env.pop(name, None)
    yield env, schema
    _drop_schema(schema)
    from redis import Redis

    redis = Redis.from_url(REDIS_URL)
    for key in redis.scan_iter(match=f"rq:*{queue}*"):
        redis.delete(key)


def test_gunicorn_and_two_workers_log_a_case_issue_a_letter_and_stop_on_sigterm(environment):
    import requests

    env, schema = environment
    run = {"cwd": ROOT, "env": env, "capture_output": True, "text": True, "timeout": 120}
    assert subprocess.run([*FLASK, "db", "upgrade"], **run).returncode == 0
    password = secrets.token_urlsafe(16)
    made = subprocess.run([*FLASK, "dsr", "create-user", "manager@harmony.example", "--role", "privacy_manager",
                           "--password-stdin"], input=password + "\n", **run)
    assert made.returncode == 0, made.stderr
    issued = subprocess.run([*FLASK, "dsr", "api-token", "manager@harmony.example"], **run)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip().splitlines()[-1].strip()

    port = _free_port()
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                            "--graceful-timeout", "8", "wsgi:app"], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    workers = [subprocess.Popen([*FLASK, "dsr", "worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        _wait_for_port(port, web)
        base = f"http://127.0.0.1:{port}"
        created = requests.post(f"{base}/api/v1/cases", headers={"Authorization": f"Bearer {token}"}, timeout=90,
                                json={"rights": ["access"], "channel": "email", "language": "nl",
                                      "subject": {"name": "Noor de Vries", "email": "noor@example.nl"}})
        assert created.status_code == 201, created.text
        reference = created.json()["reference"]

        browser = requests.Session()
        login = browser.get(f"{base}/login", timeout=90).text
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
        r = browser.post(f"{base}/login", timeout=90, data={"csrf_token": csrf, "email": "manager@harmony.example",
                                                             "password": password})
        assert r.status_code == 200 and "/login" not in r.url, r.text[:500]
        page = browser.get(f"{base}/cases/{reference}", timeout=90).text
        csrf = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)
        r = browser.post(f"{base}/cases/{reference}/letters", timeout=90, allow_redirects=False,
                         data={"csrf_token": csrf, "kind": "acknowledgement", "language": "nl"})
        assert r.status_code == 303, r.text[:500]

        engine = sa.create_engine(env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1))
        deadline = time.monotonic() + 180  # generous: the suite shares the machine with other work
        status = None
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                status = conn.execute(sa.text("SELECT status FROM jobs ORDER BY id DESC LIMIT 1")).scalar()
                letters = conn.execute(sa.text("SELECT count(*) FROM issued_letters")).scalar()
            if status in ("succeeded", "failed"):
                break
            time.sleep(0.3)
        engine.dispose()
        assert status == "succeeded" and letters == 1
        # The PDF lies in the shared storage folder every process was given.
        assert any(p.suffix == ".pdf" for p in Path(env["STORAGE_DIR"]).rglob("*"))
        case_page = browser.get(f"{base}/cases/{reference}", timeout=90).text
        assert "acknowledg" in case_page.lower()
    finally:
        stopped = [_stop(w) for w in workers] + [_stop(web)]
    assert all(seconds <= 10 for seconds in stopped), stopped
    # gunicorn.conf.py, read from the working directory: each worker warmed up before its first request.
    log = web.stderr.read()
    assert log.count("warmed up in") == 2, log[-3000:]
