"""``flask --app wsgi dsr suppression-check INPUT.csv [-o CLEAN.csv] [--column email]``: a marketing import
checked against the suppression list before it reaches the mailing system (Art. 21(3)).

Reads the CSV (UTF-8, with or without BOM; comma, semicolon or tab, as Dutch spreadsheets write it), hashes
the identifier columns as the list was built, and writes the rows that are *not* suppressed to ``-o``,
header and dialect kept. It reports counts and the numbers of the dropped rows (1 = the first row after the
header), never their identifiers: the report ends up in tickets and mails.

Which columns: each ``--column NAME`` (repeatable), its kind guessed from the name (``email``, ``e-mail``,
``mail`` -> e-mail; ``phone``, ``telefoon``, ``mobile`` -> telephone; ``customer_number``, ``klantnummer`` ->
customer number) or given as ``NAME=KIND`` (``email``, ``phone``, ``customer_number``). Without
``--column``, every column whose name gives a kind. A row is dropped when any of its identifiers is on the
list; an empty or malformed cell matches nothing.

Exit status: 0 when no row was dropped, 4 when some were (so a script can tell "clean" from "cleaned"),
1 when the file or the list could not be used (nothing is written then), 2 for a usage error.
"""

from __future__ import annotations

import csv
import os
import re
import sys
import tempfile
from pathlib import Path

import click
from flask.cli import with_appcontext

from dsr.suppression.identifiers import BadIdentifier, IdentifierKind, digest

EXIT_DROPPED = 4
ROWS_SHOWN = 100
_GUESSES = {
    IdentifierKind.EMAIL: {"email", "mail", "emailaddress", "mailaddress", "emailadres", "mailadres", "courriel"},
    IdentifierKind.PHONE: {"phone", "phonenumber", "telephone", "tel", "telefoon", "telefoonnummer", "mobile",
                           "mobiel", "gsm", "telephonenumber"},
    IdentifierKind.CUSTOMER_NUMBER: {"customernumber", "customerno", "customernr", "klantnummer", "klantnr",
                                     "clientnumber"},
}


def guess_kind(name: str) -> IdentifierKind | None:
    """The identifier a column holds, from its name ("E-mail", "customer_number", "Telefoonnummer");
    None when the name says nothing certain (a "mailing_topic" column is not an address)."""
    text = re.sub(r"[^a-z]", "", name.lower())
    return next((kind for kind, names in _GUESSES.items() if text in names), None)


def _columns(header: list[str], requested: tuple[str, ...]) -> list[tuple[int, IdentifierKind]]:
    wanted: list[tuple[int, IdentifierKind]] = []
    names = [h.strip().lower() for h in header]
    for spec in requested:
        name, _, kind = spec.partition("=")
        if name.strip().lower() not in names:
            raise click.ClickException(f"No column {name.strip()!r} in the header ({', '.join(header)}).")
        index = names.index(name.strip().lower())
        try:
            resolved = IdentifierKind(kind.strip().lower()) if kind else guess_kind(name)
        except ValueError:
            resolved = None
        if resolved is None:
            raise click.ClickException(f"Say what column {name.strip()!r} holds: --column "
                                       f"{name.strip()}=email|phone|customer_number.")
        wanted.append((index, resolved))
    if not requested:
        wanted = [(i, k) for i, k in ((i, guess_kind(h)) for i, h in enumerate(header)) if k is not None]
    if not wanted:
        raise click.ClickException("No identifier column found (e-mail, phone, customer number); name one "
                                   "with --column NAME=KIND.")
    return wanted


def _read(path: Path) -> tuple[list[list[str]], csv.Dialect | type[csv.Dialect]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"Cannot read {path}: {exc}") from None
    if not text.strip():
        raise click.ClickException(f"{path} is empty.")
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return list(csv.reader(text.splitlines(keepends=True), dialect)), dialect
    except csv.Error as exc:
        raise click.ClickException(f"{path} is not a CSV file this command can read: {exc}") from None


def _write(path: Path, rows: list[list[str]], dialect) -> None:
    """Write next to the target and rename: a half-written clean file is never left behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".suppression-", suffix=".csv")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, delimiter=dialect.delimiter, quotechar=dialect.quotechar or '"',
                                lineterminator="\r\n")
            writer.writerows(rows)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.command("suppression-check")
@with_appcontext
@click.argument("input_csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the rows that are not suppressed here (header kept).")
@click.option("--column", "columns", multiple=True, metavar="NAME[=KIND]",
              help="An identifier column; KIND is email, phone or customer_number. Repeatable.")
def suppression_check_command(input_csv: Path, output: Path | None, columns: tuple[str, ...]) -> None:
    """Check a marketing import against the suppression list; exit 4 if rows were dropped."""
    from flask import current_app

    from dsr.suppression.operations import SaltChanged, all_digests, salt

    if output is not None and output.resolve() == input_csv.resolve():
        raise click.UsageError("Write the clean file somewhere else than the input.")
    rows, dialect = _read(input_csv)
    header, data = rows[0], rows[1:]
    wanted = _columns(header, columns)
    try:
        listed = all_digests()
    except SaltChanged as exc:
        raise click.ClickException(str(exc)) from None
    secret = salt(current_app.config)
    kept, dropped, unreadable = [header], [], []
    for number, row in enumerate(data, start=1):
        hit, bad = False, False
        for index, kind in wanted:
            value = row[index] if index < len(row) else ""
            if not value.strip():
                continue
            try:
                hit = hit or (kind, digest(kind, value, secret)) in listed
            except (BadIdentifier, ValueError):
                bad = True
        if hit:
            dropped.append(number)
        else:
            kept.append(row)
            if bad:
                unreadable.append(number)
    if output is not None:
        _write(output, kept, dialect)
    names = ", ".join(f"{header[i]} ({k.value})" for i, k in wanted)
    click.echo(f"Checked {len(data)} row(s) of {input_csv.name} by {names}.")
    if dropped:
        shown = ", ".join(map(str, dropped[:ROWS_SHOWN])) + (f" and {len(dropped) - ROWS_SHOWN} more"
                                                             if len(dropped) > ROWS_SHOWN else "")
        click.echo(f"Dropped {len(dropped)} suppressed row(s): row {shown}.")
    else:
        click.echo("No row is on the suppression list.")
    if unreadable:
        click.echo(f"{len(unreadable)} row(s) kept with an identifier that is not valid and matches nothing: "
                   f"row {', '.join(map(str, unreadable[:ROWS_SHOWN]))}.", err=True)
    if output is not None:
        click.echo(f"Wrote {len(kept) - 1} row(s) to {output}.")
    sys.exit(EXIT_DROPPED if dropped else 0)
