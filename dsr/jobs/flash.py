"""After a job was dispatched from a page: say what happened, in the person's language."""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _

from dsr.domain.enums import JobStatus
from dsr.extensions import db
from dsr.jobs.models import Job


def flash_dispatched(job: Job, *, done: str, waiting: str) -> None:
    """After :func:`runner.dispatch`: say what happened. In-process the job has already run (done, or failed
    with its reason and a Retry on the jobs card); with Redis it waits for a worker."""
    job_id = job.id
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    if job.status is JobStatus.SUCCEEDED:
        flash(done, "success")
    elif job.status is JobStatus.FAILED:
        flash(_("It could not be made: %(error)s. The jobs card below has a Retry button.", error=job.error),
              "danger")
    else:
        flash(waiting, "success")
