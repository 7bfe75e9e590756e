"""``flask --app wsgi dsr declared-days``: list, add and remove the days declared equal to public holidays
(Algemene termijnenwet art. 3(3)), and check that the coming year is covered by a decree."""

from __future__ import annotations

import sys
from datetime import date

import click
from flask.cli import AppGroup

from dsr.extensions import db
from dsr.timeutil import now, today


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD).") from None


def _moved(change) -> str:
    return (f"deadlines of {len(change.moved)} open case(s) moved: {', '.join(change.moved)}" if change.moved
            else "no open case's deadline moved")


@click.group(cls=AppGroup, name="declared-days")
def declared_days_group() -> None:
    """Days declared equal to public holidays (Atw art. 3(3)); they move legal deadlines."""


@declared_days_group.command("list")
def list_command() -> None:
    """Print every declared day: date, name, source."""
    from dsr.declared_days.operations import declared_days

    for row in declared_days():
        click.echo(f"{row.day.isoformat()}\t{row.name}\t{row.source}")


@declared_days_group.command("add")
@click.argument("day")
@click.argument("name")
@click.option("--source", default="", help="The decree, e.g. its Staatscourant number.")
def add_command(day: str, name: str, source: str) -> None:
    """Add DAY (YYYY-MM-DD) named NAME; the stored deadlines of open cases are recomputed."""
    from dsr.cases.errors import CaseError
    from dsr.declared_days.operations import add_declared_day

    try:
        change = add_declared_day(_day(day), name, source, actor=None, now=now())
        db.session.commit()
    except CaseError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"Added {change.day.isoformat()} ({change.name}); {_moved(change)}.")


@declared_days_group.command("remove")
@click.argument("day")
def remove_command(day: str) -> None:
    """Remove DAY (entered by mistake); the stored deadlines of open cases are recomputed."""
    from dsr.cases.errors import CaseError
    from dsr.declared_days.operations import remove_declared_day

    try:
        change = remove_declared_day(_day(day), actor=None, now=now())
        db.session.commit()
    except CaseError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"Removed {change.day.isoformat()} ({change.name}); {_moved(change)}.")


@declared_days_group.command("check")
def check_command() -> None:
    """Exit 3 when no declared day is recorded for next calendar year (its decree is missing), else 0."""
    from dsr.declared_days.operations import uncovered_year

    year = uncovered_year(today())
    if year is None:
        click.echo(f"{today().year + 1} is covered by a decree.")
        return
    click.echo(f"No day declared equal to a public holiday is recorded for {year}: check the Staatscourant for "
               f"the Atw art. 3(3) decree and add its days (dsr declared-days add).", err=True)
    sys.exit(3)


@declared_days_group.command("recompute")
def recompute_command() -> None:
    """Recompute the stored deadlines of open cases (after changing DSR_EXTENDED_DEADLINE_RULE)."""
    from dsr.declared_days.operations import recompute_deadlines

    moved = recompute_deadlines(actor=None, now=now())
    db.session.commit()
    click.echo(f"Deadlines of {len(moved)} open case(s) moved{': ' + ', '.join(moved) if moved else ''}.")
