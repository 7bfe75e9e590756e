"""Running a real RQ worker against the test Redis and the test database, as production does.

The worker is the real command, ``flask --app wsgi dsr worker --burst``, in a subprocess pointed at the
same database (SQLite file or PostgreSQL schema) as the app under test, on a queue of its own so parallel
test processes never take each other's jobs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parents[1]

needs_redis = pytest.mark.skipif(not REDIS_URL, reason="set DSR_TEST_REDIS_URL to run the RQ worker tests")


@contextmanager
def on_redis(app):
    """Point ``app`` at the test Redis with a fresh queue name for the duration; the queue is emptied after."""
    from redis import Redis
    from rq import Queue

    queue = f"dsr-test-{uuid.uuid4().hex[:10]}"
    saved = {k: app.config.get(k) for k in ("REDIS_URL", "RQ_QUEUE")}
    app.config.update(REDIS_URL=REDIS_URL, RQ_QUEUE=queue)
    try:
        yield queue
    finally:
        app.config.update(saved)
        q = Queue(queue, connection=Redis.from_url(REDIS_URL))
        q.empty()
        q.delete(delete_jobs=True)


def queued_count(queue: str) -> int:
    from redis import Redis
    from rq import Queue

    return Queue(queue, connection=Redis.from_url(REDIS_URL)).count


def worker_env(app, queue: str, **extra: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("SECRET_KEY", "DATABASE_URL", "STORAGE_DIR", "REDIS_URL", "DSR_ENV", "FLASK_APP")}
    environ.update({
        "DSR_INSTANCE_PATH": app.instance_path,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "STORAGE_DIR": app.config["STORAGE_DIR"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "DEMO_SYSTEMS_URL": app.config["DEMO_SYSTEMS_URL"],
        "REDIS_URL": REDIS_URL or "",
        "DSR_RQ_QUEUE": queue,
    })
    environ.update(extra)
    return environ


def run_worker(app, queue: str, *args: str, timeout: int = 180, **extra: str) -> subprocess.CompletedProcess:
    """Run ``dsr worker --burst`` until the queue is empty; the completed process (check returncode)."""
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "dsr", "worker", "--burst", *args],
                          cwd=ROOT, capture_output=True, text=True, env=worker_env(app, queue, **extra),
                          timeout=timeout)
