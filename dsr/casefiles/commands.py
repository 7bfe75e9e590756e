"""``flask --app wsgi dsr reduce-case-files``: dsr's own retention, run daily (cron or the scheduler)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from dsr.extensions import db
from dsr.timeutil import now, today


@click.command("reduce-case-files")
@with_appcontext
@click.option("--dry-run", is_flag=True, help="List what is due and what is kept; change nothing.")
def reduce_case_files_command(dry_run: bool) -> None:
    """Reduce closed case files past CASE_FILE_RETENTION_YEARS that no hold or complaint keeps."""
    from dsr.casefiles.operations import past_period, reduce_due_case_files

    day = today()
    statuses = past_period(day)
    for s in statuses:
        if not s.decision.due:
            click.echo(f"{s.case.reference}: kept ({', '.join(k.value for k in s.decision.kept_by)}), "
                       f"closed {s.closed_on.isoformat()}")
    if dry_run:
        due = [s.case.reference for s in statuses if s.decision.due]
        click.echo(f"{len(due)} case file(s) due for reduction: {', '.join(due) or 'none'}.")
        return
    done = reduce_due_case_files(now=now(), today=day)
    db.session.commit()
    for d in done:
        click.echo(f"{d['case']}: reduced; {d['files']} file(s) and {d['payloads_purged']} audit detail(s) removed"
                   + ("; subject deleted" if d["subject_deleted"] else ""))
    click.echo(f"{len(done)} case file(s) reduced.")
