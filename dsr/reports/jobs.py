"""Scheduled runs as jobs: the daily escalation report e-mailed to the privacy managers, and erase-due.

Both are job kinds (:mod:`dsr.jobs`), so a run that fails is a row with its error and a retry, like any job.
They are started each day either by RQ's cron scheduler (``flask --app wsgi dsr scheduler``, with Redis) or
by the system's cron calling ``flask --app wsgi dsr send-escalations --scheduled`` and ``flask --app wsgi
dsr erase-due`` (README, "Daily runs").

The escalation report goes out on working days only. Cron fires Monday to Friday; the job itself also
skips Dutch public holidays (King's Day, Ascension Day, ...) and records the skip, so the auditor can
tell "not sent because it was a holiday" from "not sent because something broke".

Idempotent: a retried job finds the :class:`~dsr.reports.models.ReportRun` of its first attempt and does
not mail again; a second scheduled run on the same day (two schedulers by mistake) finds the day's run.
The mail is sent before the job's transaction commits: should that commit fail after a successful
send, the retry sends once more, which beats a run recorded as sent that never was.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from dsr.audit.labels import ACTION_LABELS
from dsr.audit.operations import record
from dsr.auth.models import User
from dsr.cases.deadlines import working_calendar
from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.jobs import runner
from dsr.jobs.labels import KIND_LABELS
from dsr.jobs.models import Job
from dsr.reports.mail import MailFailed, MailNotConfigured
from dsr.reports.models import ReportRun, RunOutcome
from dsr.timeutil import local_date
from dsr.timeutil import now as current_time

ESCALATION_REPORT = "escalation_report"
runner.safe_error(MailFailed, MailNotConfigured)
ERASE_DUE = "erase_due"

KIND_LABELS[ESCALATION_REPORT] = _l("Escalation report")
KIND_LABELS[ERASE_DUE] = _l("Scheduled erasure")
ACTION_LABELS["report.escalations_sent"] = _l("Escalation report sent")
ACTION_LABELS["report.escalations_skipped"] = _l("Escalation report skipped")


def manager_addresses() -> list[str]:
    """Every active privacy manager's e-mail address: the report's recipients."""
    return list(db.session.execute(
        sa.select(User.email).where(User.role == Role.PRIVACY_MANAGER, User.active.is_(True)).order_by(User.email)
    ).scalars())


def _run_day(job: Job, now: datetime) -> date:
    day = (job.params or {}).get("day")
    return date.fromisoformat(day) if day else local_date(now)


@runner.handler(ESCALATION_REPORT)
def escalation_report_job(job: Job, progress, now: datetime) -> dict:
    """Compute the day's report, render the PDF, mail it to every privacy manager and record the run."""
    from dsr.reports import mail
    from dsr.reports.dashboard import all_charts
    from dsr.reports.data import build_report
    from dsr.reports.render import file_name, report_pdf, summary_text

    existing = db.session.execute(sa.select(ReportRun).where(ReportRun.job_id == job.id)).scalar_one_or_none()
    if existing is not None:
        return _result(existing)
    params = job.params or {}
    day = _run_day(job, now)
    scheduled = bool(params.get("scheduled"))
    if scheduled:
        earlier = db.session.execute(sa.select(ReportRun).where(
            ReportRun.kind == ESCALATION_REPORT, ReportRun.schedule_day == day)).scalar_one_or_none()
        if earlier is not None:
            return {**_result(earlier), "duplicate": True}
        reason = working_calendar().non_working_reason(day)
        if reason is not None:
            run = _record(job, day, scheduled, RunOutcome.SKIPPED, now, note=f"not a working day: {reason}")
            record("report.escalations_skipped", actor=None, now=now,
                   after={"run_on": day, "reason": reason, "job_id": job.id})
            return _result(run)
        # Claim the day before anything is sent: a second scheduler's job waits on the unique (kind, day)
        # until this one commits, then finds the day taken and sends nothing.
        try:
            with db.session.begin_nested():
                claim = _record(job, day, scheduled, RunOutcome.NOT_SENT, now, note="being sent")
        except sa.exc.IntegrityError:
            earlier = db.session.execute(sa.select(ReportRun).where(
                ReportRun.kind == ESCALATION_REPORT, ReportRun.schedule_day == day)).scalar_one()
            return {**_result(earlier), "duplicate": True}
    else:
        claim = None

    progress(10, "computing the report")
    report = build_report(day, due_within=params.get("due_within"))
    pdf = report_pdf(report, charts=all_charts(day))
    recipients = manager_addresses()
    summary = {"open_cases": report.open_cases, "overdue": len(report.overdue), "items": len(report.items),
               **{kind.value: n for kind, n in report.counts().items()}}
    if not recipients:
        run = _record(job, day, scheduled, RunOutcome.NOT_SENT, now, summary=summary,
                      note="no active privacy manager to send it to", sha=hashlib.sha256(pdf).hexdigest(),
                      run=claim)
        return _result(run)
    progress(60, "sending the e-mail")
    config = current_app.config
    subject = f"dsr escalation report {day.isoformat()}: {len(report.overdue)} overdue, {len(report.items)} item(s)"
    message = mail.build_message(sender=config.get("MAIL_FROM") or "dsr@localhost", recipients=recipients,
                                 subject=subject, body=summary_text(report),
                                 attachments=[(file_name(report, "pdf"), pdf, "application/pdf")])
    refused = mail.send(message, config)
    delivered = [r for r in recipients if r not in refused]
    run = _record(job, day, scheduled, RunOutcome.SENT, now, recipients=delivered, summary=summary,
                  sha=hashlib.sha256(pdf).hexdigest(),
                  note=f"refused by the mail server: {', '.join(sorted(refused))}" if refused else None, run=claim)
    record("report.escalations_sent", actor=None, now=now,
           after={"run_on": day, "recipients": delivered, "overdue": len(report.overdue), "job_id": job.id,
                  "pdf_sha256": run.pdf_sha256})
    return _result(run)


def _record(job: Job, day: date, scheduled: bool, outcome: RunOutcome, now: datetime, *, recipients=(),
            summary=None, note=None, sha=None, run: ReportRun | None = None) -> ReportRun:
    """Add the run's row, or complete the one that claimed the day."""
    if run is None:
        run = ReportRun(kind=ESCALATION_REPORT, job_id=job.id, run_on=day,
                        schedule_day=day if scheduled else None, created_at=now)
        db.session.add(run)
    run.outcome, run.recipients, run.summary = outcome, list(recipients), summary or {}
    run.pdf_sha256, run.note = sha, note
    db.session.flush()
    return run


def _result(run: ReportRun) -> dict:
    return {"report_run_id": run.id, "outcome": run.outcome.value, "run_on": run.run_on.isoformat(),
            "recipients": list(run.recipients or []), "overdue": (run.summary or {}).get("overdue", 0),
            "note": run.note}


@runner.handler(ERASE_DUE)
def erase_due_job(job: Job, progress, now: datetime) -> dict:
    """The daily erasure of kept records whose erase-on date has come (as ``flask dsr erase-due``)."""
    from dsr.fulfilment.erasure import erase_due_items

    summaries = erase_due_items(now=now, today=_run_day(job, now))
    return {"cases": len(summaries), "erased": sum(s["erased"] for s in summaries)}


def start(kind: str, *, now: datetime, day: date | None = None, scheduled: bool = False, actor=None,
          due_within: int | None = None) -> Job:
    """Create the job for a run (the caller commits, then calls :func:`dsr.jobs.runner.dispatch`)."""
    params: dict = {"day": (day or local_date(now)).isoformat(), "scheduled": scheduled}
    if due_within is not None:
        params["due_within"] = due_within
    return runner.create(kind, now=now, params=params, actor=actor)


def run_scheduled(kind: str) -> str:
    """What RQ's cron scheduler enqueues: make today's job row and run it here, in the worker.

    Each daily run happens once a day, even with two schedulers by mistake: the escalation report claims
    its day itself (it also records skipped days); the others claim it here, before their job is made.
    """
    moment = current_time()
    if kind != ESCALATION_REPORT and not _claim_day(kind, local_date(moment), moment):
        return "skipped"
    job = start(kind, now=moment, scheduled=True)
    db.session.commit()
    return runner.perform(job.id)


def _claim_day(kind: str, day: date, now: datetime) -> bool:
    """Record that ``kind`` runs on ``day``; False when a run of that day already did (unique kind + day)."""
    try:
        db.session.add(ReportRun(kind=kind, run_on=day, schedule_day=day, outcome=RunOutcome.DONE,
                                 recipients=[], summary={}, note="started by the scheduler", created_at=now))
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        return False
    return True
