"""``flask --app wsgi dsr read-letter SCAN``: read a scanned request and print the suggestions as JSON.

Exit 0 with the JSON on standard output; exit 2 when the file cannot be read (not a PDF, JPEG or PNG, or
unreadable); exit 1 when this machine cannot read scans (tesseract or its language data missing).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from dsr.domain.enums import Right


@click.command("read-letter")
@click.argument("scan", type=click.Path(dir_okay=False, path_type=Path))
def read_letter_command(scan: Path) -> None:
    """Read SCAN (PDF, JPEG or PNG) and print the rights, language and identifiers found, as JSON."""
    import filetype

    from dsr.domain.letter_reading import read_request
    from dsr.reading.engine import ReadingUnavailable, UnreadableScan, read_scan
    from dsr.timeutil import today

    try:
        data = scan.read_bytes()
    except OSError as exc:
        click.echo(f"Error: cannot read {scan}: {exc.strerror or exc}", err=True)
        raise SystemExit(2) from None
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ("application/pdf", "image/jpeg", "image/png"):
        click.echo(f"Error: {scan} is not a PDF, JPEG or PNG (checked by its content).", err=True)
        raise SystemExit(2)
    try:
        text = read_scan(data, kind.mime)
    except UnreadableScan as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(2) from None
    except ReadingUnavailable as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(1) from None
    reading = read_request(text.words, language=text.language, language_confidence=text.language_confidence,
                           today=today(), rights=[r.value for r in Right])
    click.echo(json.dumps(reading.command_line(), ensure_ascii=False, indent=2))
