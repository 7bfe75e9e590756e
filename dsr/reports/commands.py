"""``flask --app wsgi dsr escalations | send-escalations | scheduler``: the report for schedulers and monitors.

``dsr escalations`` prints (or writes with ``-o``) the report and exits 3 when something is overdue, 0 when
nothing is, so cron, Nagios or a CI check can act on the status alone. ``dsr send-escalations`` runs the
e-mail job (``--scheduled`` from a crontab: skips weekends and Dutch holidays, once a day at most).
``dsr scheduler`` is RQ's cron scheduler with dsr's daily runs registered (needs ``REDIS_URL``).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from dsr.extensions import db

EXIT_OVERDUE = 3


def _day(value: str | None) -> date:
    from dsr.timeutil import today

    if not value:
        return today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD).", param_hint="--date") from None


@click.command("escalations")
@with_appcontext
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "pdf"]), default="text", show_default=True)
@click.option("--due-within", type=click.IntRange(0, 366), default=None,
              help="Days ahead that count as due soon (default DUE_SOON_DAYS, 7).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write to this file instead of standard output (required for PDF on a terminal).")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="Compute as of this day (default: today).")
def escalations_command(fmt: str, due_within: int | None, output: Path | None, day: str | None) -> None:
    """Print or write the escalation report; exit status 3 when something is overdue, 0 when nothing is."""
    from dsr.reports.dashboard import all_charts
    from dsr.reports.data import build_report
    from dsr.reports.render import report_csv, report_pdf, report_text

    as_of = _day(day)
    report = build_report(as_of, due_within=due_within)
    if fmt == "pdf":
        content: bytes | str = report_pdf(report, charts=all_charts(as_of))
        if output is None and sys.stdout.isatty():
            raise click.UsageError("A PDF is not for the terminal: give -o FILE (or redirect the output).")
    else:
        content = report_csv(report) if fmt == "csv" else report_text(report)
    if output is not None:
        if isinstance(content, bytes):
            output.write_bytes(content)
        else:
            output.write_text(content, encoding="utf-8")
        click.echo(f"Wrote {output} ({len(report.items)} item(s), {len(report.overdue)} overdue).", err=True)
    elif isinstance(content, bytes):
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    else:
        click.echo(content, nl=False)
    db.session.rollback()
    sys.exit(EXIT_OVERDUE if report.overdue else 0)


@click.command("send-escalations")
@with_appcontext
@click.option("--scheduled", is_flag=True,
              help="The daily run from cron: skipped on weekends and Dutch holidays, at most once a day.")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="Run as of this day (default: today).")
@click.option("--due-within", type=click.IntRange(0, 366), default=None)
def send_escalations_command(scheduled: bool, day: str | None, due_within: int | None) -> None:
    """E-mail the escalation report (PDF attached) to every privacy manager."""
    from dsr.jobs.runner import dispatch
    from dsr.reports.jobs import ESCALATION_REPORT, start
    from dsr.timeutil import now

    job = start(ESCALATION_REPORT, now=now(), day=_day(day), scheduled=scheduled, due_within=due_within)
    db.session.commit()
    dispatch(job)
    db.session.refresh(job)
    if job.status.value == "failed":
        raise click.ClickException(f"job {job.id} failed: {job.error}")
    if job.status.value != "succeeded":
        click.echo(f"Queued as job {job.id}; a worker will send it.")
        return
    result = job.result or {}
    outcome = result.get("outcome")
    if result.get("duplicate"):
        click.echo(f"Not sent: the scheduled report for {result['run_on']} was already {outcome.replace('_', ' ')}.")
    elif outcome == "sent":
        click.echo(f"Sent the report for {result['run_on']} to {', '.join(result['recipients'])} "
                   f"({result['overdue']} overdue).")
    else:
        click.echo(f"Not sent ({outcome}): {result.get('note') or 'already sent today'}.")


def schedule_entries(config) -> list[dict]:
    """dsr's daily runs as cron entries (minute hour * * weekdays), in DSR_TIMEZONE."""
    from dsr.attachments.sweep import SWEEP_JOB_KIND
    from dsr.casefiles.jobs import REDUCE_JOB_KIND
    from dsr.exports.operations import EXPIRE_JOB_KIND
    from dsr.identity.jobs import DESTROY_JOB_KIND
    from dsr.reading.operations import FORGET_JOB_KIND
    from dsr.reports.jobs import ERASE_DUE, ESCALATION_REPORT

    def cron(hhmm: str, weekdays: str) -> str:
        hour, _colon, minute = hhmm.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise click.ClickException(f"{hhmm!r} is not a time of day (HH:MM).")
        return f"{int(minute)} {int(hour)} * * {weekdays}"

    return [
        # Working days: cron leaves out weekends; the job itself leaves out Dutch public holidays.
        {"kind": ESCALATION_REPORT, "cron": cron(config["REPORT_TIME"], "1-5")},
        {"kind": ERASE_DUE, "cron": cron(config["ERASE_DUE_TIME"], "*")},
        # Exports are deleted 30 days (EXPORT_RETENTION_DAYS) after they were made: checked daily with erase-due.
        {"kind": EXPIRE_JOB_KIND, "cron": cron(config["ERASE_DUE_TIME"], "*")},
        # Closed case files are reduced CASE_FILE_RETENTION_YEARS after closure (dsr's own retention).
        {"kind": REDUCE_JOB_KIND, "cron": cron(config["ERASE_DUE_TIME"], "*")},
        # ID copies nobody confirmed within ID_COPY_DAYS are destroyed unchecked.
        {"kind": DESTROY_JOB_KIND, "cron": cron(config["ERASE_DUE_TIME"], "*")},
        # Files in storage that no row refers to (dsr/attachments/sweep.py): reported daily, never deleted.
        {"kind": SWEEP_JOB_KIND, "cron": cron(config["ERASE_DUE_TIME"], "*")},
        # Scans read for the intake form but never logged are deleted after SCAN_DRAFT_HOURS.
        {"kind": FORGET_JOB_KIND, "cron": cron(config["ERASE_DUE_TIME"], "*")},
    ]


def build_scheduler(connection, config):
    """An RQ CronScheduler with dsr's daily runs registered on dsr's queue."""
    from rq.cron import CronScheduler

    from dsr.jobs.runner import queue_name
    from dsr.reports.jobs import run_scheduled

    scheduler = CronScheduler(connection=connection)
    for entry in schedule_entries(config):
        scheduler.register(run_scheduled, queue_name(), args=(entry["kind"],), cron=entry["cron"],
                           name=f"dsr-{entry['kind']}")
    return scheduler


@click.command("scheduler")
@with_appcontext
@click.option("--print", "print_only", is_flag=True, help="Show the schedule and exit.")
def scheduler_command(print_only: bool) -> None:
    """Run RQ's cron scheduler for dsr's daily runs (escalation report, erase-due, export expiry, case-file
    reduction); needs REDIS_URL."""
    config = current_app.config
    # RQ's cron reads the process's local time; the organisation's time zone is what "07:30" means.
    os.environ["TZ"] = config.get("DSR_TIMEZONE", "Europe/Amsterdam")
    time.tzset()
    entries = schedule_entries(config)
    for entry in entries:
        click.echo(f"{entry['kind']}: cron '{entry['cron']}' ({os.environ['TZ']})")
    if print_only:
        return
    url = config.get("REDIS_URL")
    if not url:
        raise click.UsageError("REDIS_URL is not set: without Redis, run `flask --app wsgi dsr send-escalations "
                               "--scheduled` and `flask --app wsgi dsr erase-due` from cron (see README).")
    from redis import Redis

    build_scheduler(Redis.from_url(url), config).start()
