"""``flask --app wsgi dsr letter REFERENCE KIND --lang nl|en|fr|all -o FILE``: issue a letter from the shell.

The letter is issued exactly as from the case page (a ``letter`` job, stored, versioned, audited, issued by
the system), run in this process so the command can write the PDF when it returns.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from dsr.letters.kinds import LetterKind, LetterLanguage


@click.command("letter")
@with_appcontext
@click.argument("reference")
@click.argument("kind", type=click.Choice([k.value for k in LetterKind]))
@click.option("--lang", "language", type=click.Choice([lang.value for lang in LetterLanguage]),
              help="Language of the letter (default: the case's language); 'all' puts the three in one PDF.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True,
              help="Where to write the PDF ('-' for standard output).")
@click.option("--annex", is_flag=True,
              help="The subject asked for the full list of records: add it as an annex (erasure, partial refusal).")
def letter_command(reference: str, kind: str, language: str | None, output: Path, annex: bool) -> None:
    """Issue the KIND letter of case REFERENCE and write its PDF to FILE."""
    from dsr.cases.errors import CaseError
    from dsr.cases.queries import case_by_reference
    from dsr.extensions import db
    from dsr.letters import operations
    from dsr.timeutil import now

    case = case_by_reference(reference.strip())
    if case is None:
        raise click.ClickException(f"No case with reference {reference}.")
    chosen = LetterLanguage(language or case.language.value)
    try:
        letter = operations.issue_now(case, LetterKind(kind), chosen, actor=None, now=now(), annex=annex)
        data = operations.check_intact(letter)
    except CaseError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    if str(output) == "-":
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        click.echo(f"{letter.download_name}: version {letter.version}, {letter.pages} page(s), "
                   f"SHA-256 {letter.sha256} -> {output}", err=True)
