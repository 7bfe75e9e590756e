"""``flask --app wsgi dsr ...``: the commands an operator and a newcomer need."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.timeutil import now

dsr_cli = AppGroup("dsr", help="dsr administration commands.")


@dsr_cli.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", default="", help="Display name (default: the e-mail address).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create a user with a role."""
    from dsr.auth.operations import UserError, create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_user(email, name=name, role=Role(role), password=password, actor=None, now=now())
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {email.strip().lower()} ({role}).")


@dsr_cli.command("reset-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def reset_password_command(email: str, password_stdin: bool) -> None:
    """Set EMAIL's password at the console and end every session of theirs. The password given here is the
    user's own: no change is asked at the next login (a reset in the interface does ask)."""
    from dsr.auth.operations import UserError, find_user, reset_password

    user = find_user(email)
    if user is None:
        raise click.ClickException(f"No user with e-mail {email}.")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        reset_password(user, password, actor=None, now=now(), must_change=False)
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"Password of {user.email} set; every session of theirs has ended.")


@dsr_cli.command("reset-two-step")
@click.argument("email")
def reset_totp_command(email: str) -> None:
    """Turn EMAIL's two-step login off (a lost phone and lost recovery codes) and end their sessions. A role
    that requires it sets it up again at the next login."""
    from dsr.auth.operations import find_user
    from dsr.auth.sessions import end_all_sessions
    from dsr.auth.totp import disable

    user = find_user(email)
    if user is None:
        raise click.ClickException(f"No user with e-mail {email}.")
    disable(user, actor=None, now=now())
    end_all_sessions(user, now=now(), reason="two_step_reset")
    db.session.commit()
    click.echo(f"Two-step login of {user.email} is off; every session of theirs has ended.")


@dsr_cli.command("api-token")
@click.argument("email")
@click.option("--name", default="", help="What the token is for (shown in the token list).")
@click.option("--days", type=int, default=90, show_default=True, help="Days until the token expires.")
@click.option("--read-only", is_flag=True, help="The token reads and changes nothing.")
def api_token_command(email: str, name: str, days: int, read_only: bool) -> None:
    """Issue a new API bearer token for EMAIL; it is printed once, as the last line."""
    from dsr.auth.operations import UserError, find_user, issue_api_token

    user = find_user(email)
    if user is None:
        raise click.ClickException(f"No user with e-mail {email}.")
    try:
        token = issue_api_token(user, actor=None, now=now(), name=name or "console", days=days, read_only=read_only)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"New API token for {user.email} (role {user.role.value}); only its hash is stored:")
    click.echo(token)


@dsr_cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Only load when there are no cases yet (first start).")
def demo_command(if_empty: bool) -> None:
    """Load demo users and cases (idempotent)."""
    from dsr.demo.loader import load_demo

    report = load_demo(now=now(), if_empty=if_empty)
    for line in report:
        click.echo(line)


@dsr_cli.command("audit-verify")
def audit_verify_command() -> None:
    """Check the audit trail's hash chain; exit 1 naming the first broken event."""
    from dsr.audit.verify import verify_chain

    report = verify_chain()
    if report.ok:
        click.echo(f"Audit chain intact: {report.count} events. Head hash: {report.head}")
        return
    click.echo(f"Audit chain BROKEN at event {report.broken_event_id}: {report.problem}. "
               f"{report.count} events before it verified.", err=True)
    sys.exit(1)


@dsr_cli.command("erase-due")
def erase_due_command() -> None:
    """Erase kept records of executed erasure plans whose erase-on date has come (run daily)."""
    from dsr.fulfilment.erasure import erase_due_items
    from dsr.timeutil import today

    summaries = erase_due_items(now=now(), today=today())
    db.session.commit()
    for s in summaries:
        failed = f"; failed: {', '.join(s['failed'])}" if s["failed"] else ""
        click.echo(f"{s['case']}: {s['erased']} erased, {s['still_kept']} still kept{failed}")
    click.echo(f"{len(summaries)} case(s) with records due for erasure.")


@dsr_cli.command("storage-sweep")
def storage_sweep_command() -> None:
    """Report files in storage that no row refers to (run daily; deletes nothing). Exit 1 when any."""
    from dsr.attachments.sweep import GRACE, orphan_files

    orphans = orphan_files(now=now())
    for o in orphans:
        click.echo(f"{o.key}\t{o.size} bytes\tmodified {o.modified:%Y-%m-%d %H:%M} UTC")
    click.echo(f"{len(orphans)} file(s) in storage that no row refers to (files younger than "
               f"{int(GRACE.total_seconds() // 60)} minutes are left out).")
    if orphans:
        sys.exit(1)


def register(app: Flask) -> None:
    """Assemble ``flask dsr``: the features expose plain click commands and groups; only this adds them.

    No feature imports this module, so the CLI runs one way: shell -> features.
    """
    from dsr.casefiles.commands import reduce_case_files_command
    from dsr.declared_days.commands import declared_days_group
    from dsr.exports.commands import expire_exports_command
    from dsr.jobs.commands import worker_check_command, worker_command
    from dsr.letters.commands import letter_command
    from dsr.reading.commands import read_letter_command
    from dsr.reports.commands import escalations_command, scheduler_command, send_escalations_command
    from dsr.suppression.commands import suppression_check_command

    for command in (reduce_case_files_command, declared_days_group, expire_exports_command, worker_command,
                    worker_check_command, letter_command, escalations_command, send_escalations_command,
                    scheduler_command, suppression_check_command, read_letter_command):
        dsr_cli.add_command(command)
    app.cli.add_command(dsr_cli)
