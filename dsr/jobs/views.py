"""The jobs of a case: a card on the case page (progress while running, the error and a retry when failed).

The card reloads itself with htmx every two seconds while a job is queued or running, and stops when all
are done. Retrying is for staff and managers; the auditor sees the card but not the button.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from dsr.auth.access import READERS, WRITERS, reads_only, roles_required
from dsr.cases.census import known_empty
from dsr.cases.models import Case
from dsr.cases.queries import case_or_404
from dsr.domain.enums import JobStatus
from dsr.extensions import db
from dsr.jobs import runner
from dsr.jobs.labels import KIND_LABELS
from dsr.jobs.models import Job
from dsr.timeutil import now

bp = Blueprint("jobs", __name__)

STATUS_LABELS = {JobStatus.QUEUED: _l("queued"), JobStatus.RUNNING: _l("running"),
                 JobStatus.SUCCEEDED: _l("done"), JobStatus.FAILED: _l("failed")}


def case_jobs(case: Case, limit: int = 20) -> list[Job]:
    if known_empty(case, "jobs"):
        return []
    return list(db.session.execute(
        sa.select(Job).where(Job.case_id == case.id).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    ).scalars())


@bp.app_context_processor
def _helpers():
    return {"case_jobs": case_jobs, "JOB_STATUS_LABELS": STATUS_LABELS, "JOB_KIND_LABELS": KIND_LABELS,
            "job_retryable": lambda job: runner.retryable(job, now=now())}


@bp.get("/cases/<reference>/jobs")
@reads_only
@roles_required(*READERS)
def card(reference: str):
    """The card alone, for htmx polling."""
    return render_template("jobs/_card.html", case=case_or_404(reference))


@bp.post("/cases/<reference>/jobs/<int:job_id>/retry")
@roles_required(*WRITERS)
def retry(reference: str, job_id: int):
    # The global CSRFProtect has checked the form's token before this runs.
    case = case_or_404(reference)
    job = db.session.get(Job, job_id)
    if job is None or job.case_id != case.id:
        abort(404)
    try:
        runner.retry(job, actor=current_user, now=now())
    except runner.JobError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        return redirect(url_for("cases.detail", reference=reference, _anchor="jobs"), code=303)
    db.session.commit()
    runner.dispatch(job)
    flash(_("The job was queued again."), "success")
    if request.headers.get("HX-Request"):
        return render_template("jobs/_card.html", case=case)
    return redirect(url_for("cases.detail", reference=reference, _anchor="jobs"), code=303)
