"""Background jobs (issue 5, item 5): the job row, in-process dispatch, failure, retry, and a real RQ worker.

The in-process path is what a newcomer runs (no Redis); the worker tests run the real
``flask --app wsgi dsr worker --burst`` against the Redis in DSR_TEST_REDIS_URL and the test database.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from dsr.audit.models import AuditEvent
from dsr.audit.operations import record
from dsr.auth.models import User
from dsr.domain.enums import JobStatus, Role
from dsr.extensions import db
from dsr.filestore import track_new_file
from dsr.jobs import runner
from dsr.jobs.health import KIND as HEALTH
from dsr.jobs.models import Job
from tests.conftest import NOW
from tests.factories import make_case, make_user
from tests.integration.conftest import assert_unbroken_chain, audit_trail
from tests.jobs_support import needs_redis, on_redis, queued_count, run_worker
from tests.storage_support import storage_root

# A handler that fails on its first run and succeeds on the next, having written a row and a file each time.
FLAKY = "test_flaky"
CALLS: dict[str, int] = {}


@runner.handler(FLAKY)
def _flaky(job: Job, progress, now):
    CALLS[FLAKY] = CALLS.get(FLAKY, 0) + 1
    progress(40, "half-way there")  # before the handler writes rows of its own, as the runner asks
    with db.engine.connect() as other:  # another connection sees the progress while the job runs
        seen = other.execute(sa.select(Job.progress, Job.progress_note).where(Job.id == job.id)).one()
    path = storage_root() / "jobs-test" / f"{job.id}-{CALLS[FLAKY]}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("made by the job")
    track_new_file(path.relative_to(storage_root()).as_posix())
    record("test.job_wrote", actor=None, now=now, case=job.case, after={"job_id": job.id})
    if CALLS[FLAKY] == 1 and job.params.get("fail_first"):
        raise RuntimeError("the source system did not answer")
    return {"file": str(path), "progress_seen": list(seen)}


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()


def _staff():
    return db.session.scalar(sa.select(User).where(User.email == "staff@harmony.test")) or make_user(Role.STAFF)


def _job(kind: str = HEALTH, **params) -> Job:
    job = runner.create(kind, now=NOW, case=make_case(actor=_staff()), params=params)
    db.session.commit()
    return job


def _reload(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def test_a_job_is_created_queued_with_an_audit_event(ctx):
    job = _job(HEALTH)
    assert (job.status, job.attempts, job.progress, job.started_at) == (JobStatus.QUEUED, 0, 0, None)
    event = audit_trail()[-1]
    assert (event.action, event.case_id, event.after["job_id"], event.after["kind"]) == (
        "job.queued", job.case_id, job.id, HEALTH)


def test_an_unknown_kind_is_refused(ctx):
    with pytest.raises(runner.JobError, match="no handler"):
        runner.create("no_such_kind", now=NOW)


def test_without_redis_dispatch_runs_the_job_in_this_process(ctx):
    assert not ctx.config.get("REDIS_URL")
    job = _job(HEALTH)
    runner.dispatch(job)
    job = _reload(job.id)
    assert job.status is JobStatus.SUCCEEDED
    assert (job.attempts, job.progress, job.error) == (1, 100, None)
    assert job.result["pid"] == os.getpid()
    assert job.started_at is not None and job.finished_at >= job.started_at


def test_a_failing_job_leaves_nothing_half_written_and_says_why(ctx):
    job = _job(FLAKY, fail_first=True)
    runner.dispatch(job)
    job = _reload(job.id)
    assert job.status is JobStatus.FAILED
    # A plain exception's text may quote record values: the row keeps its class, the log the details.
    assert job.error == f"RuntimeError (the details are in the server log under job {job.id})"
    assert job.finished_at is not None
    # The handler's audit event and file were rolled back with it; the failure itself is recorded.
    actions = [e.action for e in audit_trail()]
    assert "test.job_wrote" not in actions and actions[-1] == "job.failed"
    assert not list((storage_root() / "jobs-test").glob("*"))
    assert_unbroken_chain(audit_trail())


def test_a_retry_runs_the_same_row_again(ctx):
    job = _job(FLAKY, fail_first=True)
    runner.dispatch(job)
    job = _reload(job.id)
    staff = make_user(Role.STAFF, "retrier@harmony.example")
    assert runner.retryable(job, now=NOW)
    runner.retry(job, actor=staff, now=NOW)
    db.session.commit()
    runner.dispatch(job)
    job = _reload(job.id)
    assert (job.status, job.attempts, job.error) == (JobStatus.SUCCEEDED, 2, None)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 1
    assert Path(job.result["file"]).read_text() == "made by the job"
    assert job.result["progress_seen"] == [40, "half-way there"]
    job_events = [e.action for e in audit_trail() if e.action.startswith(("job.", "test."))]
    assert job_events == ["job.queued", "job.failed", "job.retried", "test.job_wrote"]
    retried = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "job.retried")).one()
    assert retried.actor_id == staff.id


def test_only_failed_or_stale_jobs_can_be_retried(ctx):
    job = _job(HEALTH)
    runner.dispatch(job)
    job = _reload(job.id)
    with pytest.raises(runner.JobError, match="has already succeeded"):
        runner.retry(job, actor=None, now=NOW)
    # A job "running" for longer than JOB_STALE_AFTER_SECONDS lost its worker: it may be retried.
    job.status, job.finished_at, job.result = JobStatus.RUNNING, None, None
    job.started_at = NOW - timedelta(seconds=ctx.config["JOB_STALE_AFTER_SECONDS"] - 60)
    db.session.commit()
    assert not runner.retryable(job, now=NOW)
    job.started_at = NOW - timedelta(seconds=ctx.config["JOB_STALE_AFTER_SECONDS"] + 60)
    db.session.commit()
    assert runner.retryable(job, now=NOW)
    runner.retry(job, actor=None, now=NOW)
    db.session.commit()
    assert _reload(job.id).status is JobStatus.QUEUED


def test_a_job_given_twice_runs_once(ctx):
    job = _job(HEALTH)
    assert runner.perform(job.id) == "succeeded"
    assert runner.perform(job.id) == "skipped"
    assert _reload(job.id).attempts == 1


def test_an_unreachable_queue_marks_the_job_failed_instead_of_leaving_it_waiting(ctx):
    job = _job(HEALTH)
    ctx.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    try:
        runner.dispatch(job)
    finally:
        ctx.config["REDIS_URL"] = None
    job = _reload(job.id)
    assert job.status is JobStatus.FAILED
    assert job.error.startswith("The job queue could not be reached")
    assert runner.retryable(job, now=NOW)


# -- a real RQ worker --------------------------------------------------------------------------------------------

@needs_redis
@pytest.mark.redis
def test_with_redis_the_job_waits_on_the_queue_until_a_worker_runs_it(ctx):
    with on_redis(ctx) as queue:
        jobs = [_job(HEALTH) for _ in range(3)]
        for job in jobs:
            runner.dispatch(job)
        assert queued_count(queue) == 3
        assert {_reload(j.id).status for j in jobs} == {JobStatus.QUEUED}

        done = run_worker(ctx, queue)
        assert done.returncode == 0, done.stderr[-3000:]
        assert queued_count(queue) == 0
    for job in jobs:
        job = _reload(job.id)
        assert job.status is JobStatus.SUCCEEDED, job.error
        # Run in a work-horse forked from the worker, which had imported WeasyPrint before any job came.
        assert job.result["pid"] != os.getpid()
        assert job.result["weasyprint_preloaded"] is True
    assert len({_reload(j.id).result["parent_pid"] for j in jobs}) == 1


@needs_redis
@pytest.mark.redis
def test_rq_job_ids_are_named_after_the_queue_so_installations_sharing_redis_never_collide(ctx):
    # Two installations (here: two test schemas) on one Redis number their job rows from 1 alike.
    from redis import Redis
    from rq import Queue

    from tests.conftest import REDIS_URL

    redis = Redis.from_url(REDIS_URL)
    with on_redis(ctx) as first:
        job = _job(HEALTH)
        runner.dispatch(job)
        with on_redis(ctx) as second:
            runner.dispatch(job)
            assert Queue(second, connection=redis).job_ids == [f"{second}-job-{job.id}-0"]
        # The second installation's cleanup took its own job, not the first's.
        assert Queue(first, connection=redis).job_ids == [f"{first}-job-{job.id}-0"]
        assert redis.exists(f"rq:job:{first}-job-{job.id}-0")


@needs_redis
@pytest.mark.redis
def test_a_worker_check_reports_a_running_worker(ctx, tmp_path):
    import subprocess
    import sys

    from tests.jobs_support import ROOT, worker_env

    with on_redis(ctx) as queue:
        env = worker_env(ctx, queue)
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "dsr", "worker"], cwd=ROOT,
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            check = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "dsr", "worker-check",
                                    "--timeout", "60"], cwd=ROOT, env=env, capture_output=True, text=True,
                                   timeout=120)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    assert check.returncode == 0, check.stderr
    assert "WeasyPrint preloaded: True" in check.stdout


@needs_redis
@pytest.mark.redis
@pytest.mark.parametrize("fork", [False, True], ids=["simple", "fork"])
def test_a_worker_stops_at_once_when_its_command_thread_has_read_the_unsubscribe_first(fork):
    # The interleaving that made a worker take 60 s to stop after SIGTERM on a loaded machine: the main
    # thread sends UNSUBSCRIBE and is descheduled; the command thread reads the reply, finds itself
    # unsubscribed and waits up to 60 s for a new subscription, which RQ's stop() then waited for.
    import threading
    import time

    from redis import Redis

    from dsr.jobs.worker import DsrSimpleWorker, DsrWorker
    from tests.conftest import REDIS_URL

    worker = (DsrWorker if fork else DsrSimpleWorker)([f"dsr-test-{os.getpid()}"],
                                                      connection=Redis.from_url(REDIS_URL))
    worker.subscribe()
    pubsub = worker.pubsub
    send_unsubscribe = pubsub.unsubscribe

    def unsubscribe_then_lose_the_cpu(*args):
        send_unsubscribe(*args)
        deadline = time.monotonic() + 10
        while pubsub.subscribed and time.monotonic() < deadline:  # the command thread reads the reply
            time.sleep(0.01)
        assert not pubsub.subscribed

    pubsub.unsubscribe = unsubscribe_then_lose_the_cpu
    stopping = threading.Thread(target=worker.unsubscribe, daemon=True)
    stopping.start()
    stopping.join(timeout=15)  # RQ alone would wait here for the command thread's 60 s
    assert not stopping.is_alive(), "the worker is still waiting for its command thread"
    assert not worker.pubsub_thread.is_alive()


# A job that runs until it is interrupted (its first attempt) and ends at once on its second.
SLOW = "test_slow"


@runner.handler(SLOW)
def _slow(job: Job, progress, now):
    if job.attempts == 1:
        progress(10, "started")  # before the handler's own writes (another connection)
    record("test.job_wrote", actor=None, now=now, case=job.case, after={"job_id": job.id})
    db.session.flush()
    path = storage_root() / "jobs-test" / f"{job.id}-{job.attempts}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("made by the job")
    track_new_file(path.relative_to(storage_root()).as_posix())
    deadline = time.monotonic() + (120 if job.attempts == 1 else 0)
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return {"attempt": job.attempts}


def _work(app, queue: str, fork: bool, burst: bool) -> None:
    """A real dsr worker in a process forked from this one (so it knows the test's handlers)."""
    from redis import Redis

    from dsr.jobs.worker import DsrSimpleWorker, DsrWorker
    from tests.conftest import REDIS_URL

    with app.app_context():
        db.engine.dispose(close=False)  # never the parent's connections
        worker = (DsrWorker if fork else DsrSimpleWorker)([queue], connection=Redis.from_url(REDIS_URL))
        worker.stop_grace_seconds = 1.0
        worker.work(burst=burst, logging_level="WARNING")


def _row(job_id: int):
    with db.engine.connect() as conn:  # not the session: nothing held open between looks
        return conn.execute(sa.select(Job.status, Job.attempts, Job.progress).where(Job.id == job_id)).one()


@needs_redis
@pytest.mark.redis
@pytest.mark.parametrize("fork", [False, True], ids=["simple", "fork"])
def test_a_worker_stopped_mid_job_rolls_the_job_back_and_queues_it_for_the_next_worker(ctx, fork):
    import multiprocessing
    import signal

    processes = multiprocessing.get_context("fork")
    with on_redis(ctx) as queue:
        job = _job(SLOW)
        job_id = job.id
        runner.dispatch(job)
        db.session.commit()
        worker = processes.Process(target=_work, args=(ctx, queue, fork, False))
        worker.start()
        deadline = time.monotonic() + 120
        while _row(job_id).progress != 10 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert tuple(_row(job_id)) == (JobStatus.RUNNING, 1, 10)

        os.kill(worker.pid, signal.SIGTERM)
        worker.join(timeout=60)
        if worker.is_alive():
            worker.kill()
            worker.join()
            pytest.fail("the worker did not stop within 60 s of SIGTERM")
        assert worker.exitcode == 0
        # The interrupted attempt wrote nothing; the job waits on the queue for the next worker.
        assert tuple(_row(job_id))[:2] == (JobStatus.QUEUED, 1)
        assert queued_count(queue) == 1
        actions = [e.action for e in audit_trail()]
        assert "test.job_wrote" not in actions and actions[-1] == "job.requeued"
        assert not list((storage_root() / "jobs-test").glob("*"))

        again = processes.Process(target=_work, args=(ctx, queue, fork, True))
        again.start()
        again.join(timeout=120)
        assert again.exitcode == 0
    job = _reload(job_id)
    assert (job.status, job.attempts, job.result) == (JobStatus.SUCCEEDED, 2, {"attempt": 2})
    actions = [e.action for e in audit_trail() if e.action.startswith(("job.", "test."))]
    assert actions == ["job.queued", "job.requeued", "test.job_wrote"]
    assert [p.name for p in (storage_root() / "jobs-test").glob("*")] == [f"{job_id}-2.txt"]
    assert_unbroken_chain(audit_trail())


# A handler whose failure comes from the database itself (a flush that breaks a constraint): the session
# is unusable until rolled back, and the job must still end as failed, not stay "running".
BROKEN_FLUSH = "test_broken_flush"


@runner.handler(BROKEN_FLUSH)
def _broken_flush(job: Job, progress, now):
    db.session.add(User(email="same@harmony.test", name="A", role=Role.STAFF, password_hash="x", active=True,
                        created_at=now))
    db.session.add(User(email="same@harmony.test", name="B", role=Role.STAFF, password_hash="x", active=True,
                        created_at=now))
    db.session.flush()
    return {}


def test_a_job_whose_flush_fails_ends_as_failed_without_the_rows_values(ctx):
    job = _job(BROKEN_FLUSH)
    assert runner.perform(job.id) == "failed"
    job = _reload(job.id)
    assert job.status is JobStatus.FAILED and job.finished_at is not None
    assert job.error == f"IntegrityError (the details are in the server log under job {job.id})"
    assert "same@harmony.test" not in job.error
    failed = [e for e in audit_trail() if e.action == "job.failed"][-1]
    assert "same@harmony.test" not in str(failed.after)


OVERTAKEN = "test_overtaken"


@runner.handler(OVERTAKEN)
def _overtaken(job: Job, progress, now):
    with db.engine.begin() as other:  # meanwhile a retry re-queued and claimed the job: attempt 2
        other.execute(sa.update(Job).where(Job.id == job.id).values(attempts=Job.attempts + 1))
    record("test.job_wrote", actor=None, now=now, case=job.case, after={"job_id": job.id})
    return {}


def test_a_job_taken_over_by_a_retry_does_not_overwrite_it(ctx):
    """A stale job retried while its first worker was alive after all: the first attempt to finish is no
    longer the job's current attempt, so its work is rolled back and the row stays the retry's."""
    job = _job(OVERTAKEN)
    assert runner.perform(job.id) == "superseded"
    job = _reload(job.id)
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 2)
    assert "test.job_wrote" not in [e.action for e in audit_trail()]
