"""Create, dispatch, run and retry background jobs: the one small dispatch function and what it calls.

The life of a job:

1. a request creates the row (:func:`create`, status ``queued``) in its own transaction and commits;
2. :func:`dispatch` hands the job to RQ when ``REDIS_URL`` is set, or runs it at once in this process
   (the embedded default: a newcomer needs no Redis);
3. :func:`perform` (in the worker or inline) claims the row with one conditional UPDATE, so two workers
   given the same job cannot both run it; runs the kind's handler in one transaction; and commits the
   handler's work together with ``succeeded``. On an exception everything the handler did is rolled back
   (files it wrote through :func:`dsr.filestore.track_new_file` are removed) and the row says
   ``failed`` with the error text;
4. :func:`retry` puts a failed job back to ``queued``: the same row, so what it produces can be unique per
   job and a retry never makes a second letter version or export.

Progress is written on a connection of its own, so the case page sees it while the handler's transaction
is still open. It is best effort: a handler should report progress before it writes rows of its own
(SQLite lets one writer at a time).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from flask import current_app

from dsr.audit.operations import record
from dsr.cases.errors import CaseError
from dsr.datamap.model import DataMapError
from dsr.domain.enums import JobStatus
from dsr.extensions import db
from dsr.jobs.models import Job
from dsr.pdf import RefusedURL, RenderFailed
from dsr.timeutil import now as current_time

log = logging.getLogger(__name__)



class Progress(Protocol):
    def __call__(self, percent: int, note: str | None = None) -> None: ...


Handler = Callable[[Job, Progress, datetime], dict[str, Any] | None]
HANDLERS: dict[str, Handler] = {}


class JobError(RuntimeError):
    """A job cannot be created, dispatched or retried; the message says why."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of ``kind``: ``fn(job, progress, now) -> result dict``.

    The handler works in the session's transaction and must not commit; it returns a small JSON-ready
    result (``{"letter_id": 7}``) kept on the row.
    """
    def register(fn: Handler) -> Handler:
        if HANDLERS.get(kind, fn) is not fn:
            raise JobError(f"two handlers for job kind {kind!r}")
        HANDLERS[kind] = fn
        return fn
    return register


def create(kind: str, *, now: datetime, case=None, params: dict[str, Any] | None = None, actor=None) -> Job:
    """Add a queued job to the current transaction, with an audit event on its case."""
    if kind not in HANDLERS:
        raise JobError(f"no handler for job kind {kind!r}")
    job = Job(kind=kind, case=case, status=JobStatus.QUEUED, params=dict(params or {}), progress=0,
              attempts=0, created_at=now, created_by_id=actor.id if actor is not None else None)
    db.session.add(job)
    db.session.flush()
    record("job.queued", actor=actor, now=now, case=case, after={"job_id": job.id, "kind": kind, **job.params})
    return job


def stale_after() -> timedelta:
    """How long a job may say "running" before it counts as lost: never less than the job's own time limit
    (plus a minute), or a retry could start while the first attempt still runs."""
    configured = int(current_app.config.get("JOB_STALE_AFTER_SECONDS", 1800))
    limit = int(current_app.config.get("JOB_TIMEOUT_SECONDS", 900)) + 60
    return timedelta(seconds=max(configured, limit))


def retryable(job: Job, *, now: datetime) -> bool:
    """Failed, or still ``running`` long after it started: its worker died without saying so."""
    if job.status is JobStatus.FAILED:
        return True
    return (job.status is JobStatus.RUNNING and job.started_at is not None
            and now - job.started_at > stale_after())


def retry(job: Job, *, actor, now: datetime) -> Job:
    """Queue a failed (or stale) job again; the caller commits, then calls :func:`dispatch`."""
    if not retryable(job, now=now):
        state = {JobStatus.QUEUED: "is still queued", JobStatus.RUNNING: "is still running",
                 JobStatus.SUCCEEDED: "has already succeeded"}[job.status]
        raise JobError(f"Job {job.id} {state}; only a failed job can be retried.")
    stale_cutoff = now - stale_after()
    changed = db.session.execute(
        sa.update(Job).where(Job.id == job.id).where(
            sa.or_(Job.status == JobStatus.FAILED,
                   sa.and_(Job.status == JobStatus.RUNNING, Job.started_at < stale_cutoff)))
        .values(status=JobStatus.QUEUED, error=None, finished_at=None, progress=0, progress_note=None)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise JobError(f"Job {job.id} was retried by someone else a moment ago.")
    db.session.refresh(job)
    record("job.retried", actor=actor, now=now, case=job.case,
           before={"job_id": job.id, "error": None}, after={"job_id": job.id, "kind": job.kind})
    return job


def queue_name() -> str:
    return current_app.config.get("RQ_QUEUE") or "dsr"


def _queue(url: str):
    from redis import Redis
    from rq import Queue

    return Queue(queue_name(), connection=Redis.from_url(url))


def dispatch(job: Job) -> None:
    """Run ``job`` now (no ``REDIS_URL``) or put it on the RQ queue. Call after the commit that made it.

    If the queue cannot be reached the job is marked failed with the reason, so it shows with a retry
    button instead of waiting forever.
    """
    url = current_app.config.get("REDIS_URL")
    job_id = job.id
    if not url:
        perform(job_id)
        return
    try:
        # RQ's job ids are global in Redis: named after the queue, so that two installations (or test
        # schemas) whose job rows share ids, each on a queue of its own, never overwrite each other's jobs.
        _queue(url).enqueue(
            perform_in_worker, job_id, job_id=f"{queue_name()}-job-{job_id}-{job.attempts}",
            job_timeout=int(current_app.config.get("JOB_TIMEOUT_SECONDS", 900)),
            # The job row is the lasting record, not RQ's: keep no result, and failures for a week.
            result_ttl=0, failure_ttl=7 * 24 * 3600, description=f"dsr {job.kind} job {job_id}")
    except Exception as exc:  # redis.exceptions.RedisError and socket errors alike
        log.exception("could not enqueue job %s", job_id)
        _fail_unstarted(job_id, f"The job queue could not be reached: {exc}", current_time())


def _fail_unstarted(job_id: int, error: str, now: datetime) -> None:
    """A queued job that never reached a worker (the queue was unreachable): failed, with a retry."""
    db.session.rollback()
    job = db.session.get(Job, job_id)
    if job is None or job.status is not JobStatus.QUEUED:
        return
    job.status, job.error, job.finished_at = JobStatus.FAILED, error[:4000], now
    record("job.failed", actor=None, now=now, case=job.case,
           after={"job_id": job.id, "kind": job.kind, "error": job.error[:500]})
    db.session.commit()


def _claim(job_id: int, now: datetime) -> bool:
    claimed = db.session.execute(
        sa.update(Job).where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(status=JobStatus.RUNNING, attempts=Job.attempts + 1, started_at=now,
                progress=0, progress_note=None)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return claimed == 1


def _progress_writer(job_id: int) -> Progress:
    last = {"percent": -1, "at": 0.0}

    def progress(percent: int, note: str | None = None) -> None:
        percent = max(0, min(100, int(percent)))
        moment = time.monotonic()
        if percent == last["percent"] or (moment - last["at"] < 0.5 and percent - last["percent"] < 10):
            return
        last.update(percent=percent, at=moment)
        try:
            with db.engine.begin() as conn:
                conn.execute(sa.update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING)
                             .values(progress=percent, progress_note=(note or None) and note[:200]))
        except sa.exc.OperationalError:
            log.info("progress of job %s not written (database busy)", job_id)

    return progress


# Exceptions whose message is written for a person and holds no record values: stored and shown as they
# are. Any other exception (a database error quotes the row it failed on) is stored by its class name only;
# its full text goes to the server log, never into the job row or the audit trail.
_SAFE_ERRORS: list[type[BaseException]] = [JobError, CaseError, DataMapError, RefusedURL, RenderFailed]


def safe_error(*classes: type[BaseException]) -> None:
    """Declare exception classes whose messages may be shown on the case page and kept in the audit trail."""
    _SAFE_ERRORS.extend(c for c in classes if c not in _SAFE_ERRORS)


def error_text(exc: BaseException, job_id: int) -> str:
    if isinstance(exc, tuple(_SAFE_ERRORS)):
        return str(exc) or type(exc).__name__
    return f"{type(exc).__name__} (the details are in the server log under job {job_id})"


def _fail(job_id: int, attempt: int, error: str, now: datetime) -> None:
    db.session.rollback()
    job = db.session.get(Job, job_id)
    if job is None or job.status is not JobStatus.RUNNING or job.attempts != attempt:
        return  # a retry took the job over meanwhile: that attempt reports for itself
    job.status = JobStatus.FAILED
    job.error = error[:4000] or "failed"
    job.finished_at = now
    record("job.failed", actor=None, now=now, case=job.case,
           after={"job_id": job.id, "kind": job.kind, "error": job.error[:500]})
    db.session.commit()


class WorkerStopping(BaseException):
    """Raised inside a running job when its worker must stop now (:mod:`dsr.jobs.worker`). A BaseException,
    so that a handler's own ``except Exception`` cannot swallow it."""


_job_running = threading.Event()


@contextmanager
def _running_job():
    """While a handler runs: a worker's stop signal may interrupt it (:class:`WorkerStopping`); outside
    it, the signal is ignored, so the bookkeeping that ends a job is never cut in half."""
    _job_running.set()
    try:
        yield
    finally:
        _job_running.clear()


def interrupt_running_job(signum, frame) -> None:
    """The worker's handler of its stop signal (see :mod:`dsr.jobs.worker`)."""
    if _job_running.is_set():
        raise WorkerStopping("the worker was told to stop")


def _requeue(job_id: int, attempt: int, now: datetime) -> None:
    """Put a job interrupted by its worker's stop back on the queue: its work was rolled back."""
    db.session.rollback()
    job = db.session.get(Job, job_id)
    if job is None or job.status is not JobStatus.RUNNING or job.attempts != attempt:
        return
    job.status, job.started_at, job.progress, job.progress_note = JobStatus.QUEUED, None, 0, None
    record("job.requeued", actor=None, now=now, case=job.case,
           after={"job_id": job.id, "kind": job.kind, "attempt": attempt})
    db.session.commit()
    dispatch(job)


def perform(job_id: int, *, now: datetime | None = None) -> str:
    """Run one job to its end (the RQ entry point and the in-process path). Returns the final status.

    ``now`` is the moment the job runs at, for a caller that states it (the command line, the demo's history);
    a worker reads the clock.

    The job ends only if it is still this attempt's: a stale job retried while its first worker was in
    fact alive is finished by whichever attempt comes last, and the other's work is rolled back.
    """
    started = now or current_time()
    if not _claim(job_id, started):
        log.info("job %s was not queued (already taken or done); skipped", job_id)
        return "skipped"
    job = db.session.get(Job, job_id)
    kind, attempt = job.kind, job.attempts
    fn = HANDLERS.get(kind)
    try:
        if fn is None:
            raise JobError(f"no handler for job kind {kind!r} in this process")
        with _running_job():
            result = fn(job, _progress_writer(job_id), started)
        finished = db.session.execute(
            sa.update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.attempts == attempt)
            .values(status=JobStatus.SUCCEEDED, result=result or {}, progress=100, error=None,
                    finished_at=now or current_time())
            .execution_options(synchronize_session=False)).rowcount
        if finished != 1:
            db.session.rollback()
            log.warning("job %s attempt %s was taken over by a retry; its work is rolled back", job_id, attempt)
            return "superseded"
        db.session.commit()
        return "succeeded"
    except WorkerStopping:
        log.warning("job %s (%s) interrupted: its worker is stopping; queued again", job_id, kind)
        _requeue(job_id, attempt, current_time())
        return "requeued"
    except Exception as exc:
        db.session.rollback()  # first: after a failed flush the session allows nothing else
        log.exception("job %s (%s) failed", job_id, kind)
        _fail(job_id, attempt, error_text(exc, job_id), now or current_time())
        return "failed"


def perform_in_worker(job_id: int) -> str:
    """The RQ entry point: :func:`perform`, then a clean session for the worker's next job."""
    try:
        return perform(job_id)
    finally:
        db.session.remove()


def worker_pid_hook() -> None:
    """In an RQ work-horse (a fork of the worker), never reuse the parent's database connections."""
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=lambda: db.engine.dispose(close=False))
