"""``flask --app wsgi dsr expire-exports``: delete stored exports past their expiry (run daily, from cron or
the scheduler, which can also queue the ``expire_exports`` job)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from dsr.extensions import db
from dsr.timeutil import now


@click.command("expire-exports")
@with_appcontext
def expire_exports_command() -> None:
    """Delete export files older than EXPORT_RETENTION_DAYS; their rows stay, noted on each case."""
    from dsr.exports.operations import expire_exports

    expired = expire_exports(now=now())
    db.session.commit()
    for export in expired:
        click.echo(f"{export.case.reference}: export {export.id} ({export.kind.value}) deleted")
    click.echo(f"{len(expired)} export(s) expired.")
