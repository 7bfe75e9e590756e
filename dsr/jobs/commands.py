"""``flask --app wsgi dsr worker``: an RQ worker for dsr's jobs (production; needs ``REDIS_URL``)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from dsr.jobs.runner import queue_name, worker_pid_hook


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True, help="Work until the queue is empty, then stop (tests, cron).")
@click.option("--fork", is_flag=True,
              help="Run each job in a forked work-horse (RQ's default): more isolation, ~0.5 s more per job.")
def worker_command(burst: bool, fork: bool) -> None:
    """Run jobs from the dsr queue. WeasyPrint is imported and warmed once here, not once per job.

    By default jobs run in the worker process itself (RQ's SimpleWorker): a letter takes about 0.1 s, and
    a fork per job cost several times that on the benchmark (bench/letters.py). Run the worker under a
    supervisor that restarts it; a job's time limit still applies. ``--fork`` restores RQ's fork per job.
    """
    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.UsageError("REDIS_URL is not set: without Redis, jobs run in the web process itself.")
    from redis import Redis

    from dsr import pdf
    from dsr.jobs.worker import DsrSimpleWorker, DsrWorker

    pdf.warm_up()
    worker_pid_hook()
    worker_class = DsrWorker if fork else DsrSimpleWorker
    worker = worker_class([queue_name()], connection=Redis.from_url(url))
    worker.stop_grace_seconds = float(current_app.config.get("WORKER_STOP_GRACE_SECONDS", 7))
    worker.work(burst=burst, logging_level="INFO")


@click.command("worker-check")
@with_appcontext
@click.option("--timeout", default=30, show_default=True, help="Seconds to wait for a worker's answer.")
def worker_check_command(timeout: int) -> None:
    """Queue a health-check job and wait for a worker to run it (exit 0 when it did, 1 when not)."""
    import time

    from dsr.extensions import db
    from dsr.jobs.health import KIND
    from dsr.jobs.models import Job
    from dsr.jobs.runner import create, dispatch
    from dsr.timeutil import now

    job = create(KIND, now=now())
    db.session.commit()
    dispatch(job)
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        job = db.session.get(Job, job.id)
        if job.done or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if job.status.value != "succeeded":
        click.echo(f"job {job.id}: {job.status.value}{': ' + job.error if job.error else ''} "
                   f"(is a worker running on queue {queue_name()!r}?)", err=True)
        raise SystemExit(1)
    click.echo(f"job {job.id} ran on {job.result['host']} (pid {job.result['pid']}); "
               f"WeasyPrint preloaded: {job.result['weasyprint_preloaded']}")
