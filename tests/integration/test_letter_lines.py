"""No stray line breaks in a letter's running text.

WeasyPrint 70 sometimes breaks a line of running text far too early when an inline element (``<strong>``,
``<span>``) starts near the end of the next line: "…submit a complaint to the Dutch" / "regulator, the Dutch
Data Protection Authority…", leaving one word alone on a line of an otherwise full paragraph. Every kind is
rendered in nl, en and fr from the cases tests/integration/test_letters.py builds, and read back with
poppler's ``pdftotext -bbox-layout``: in a paragraph as wide as the letter's body, no line may end while the
next line's first word would still have fitted on it.

Layout does not depend on the database: SQLite only.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from dsr.letters import operations
from dsr.letters.kinds import LetterKind, LetterLanguage
from tests.conftest import TODAY
from tests.integration.test_letters import (
    ALL_KINDS_LANGUAGES,
    _frozen_clock,  # noqa: F401  (autouse: the letters are dated TODAY)
    build,
    people,  # noqa: F401  (fixture)
    systems,  # noqa: F401  (fixture)
)

XHTML = "{http://www.w3.org/1999/xhtml}"
BODY_WIDTH = 380  # points: narrower blocks are table cells, the address window and the letterhead
SLACK = 8  # points: a word that fits with this much to spare should have stayed on the line


@pytest.fixture
def ctx(app):
    """SQLite only: where a line breaks does not depend on the database."""
    with app.app_context():
        yield app


def stray_breaks(pdf: bytes) -> list[str]:
    """Lines of full-width paragraphs that end although the next line's first word would have fitted."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "letter.pdf"
        path.write_bytes(pdf)
        layout = subprocess.run(["pdftotext", "-bbox-layout", str(path), "-"], capture_output=True, text=True,
                                check=True).stdout
    found = []
    for number, page in enumerate(ElementTree.fromstring(layout).iter(XHTML + "page"), start=1):
        for block in page.iter(XHTML + "block"):
            lines = [line for line in block.iter(XHTML + "line") if list(line.iter(XHTML + "word"))]
            if len(lines) < 2:
                continue
            left = min(float(line.get("xMin")) for line in lines)
            right = max(float(line.get("xMax")) for line in lines)
            if right - left < BODY_WIDTH:
                continue
            for line, following in zip(lines, lines[1:], strict=False):
                if abs(float(line.get("xMin")) - float(following.get("xMin"))) > 2:
                    continue  # a list item's first line, an indented line
                first = next(following.iter(XHTML + "word"))
                width = float(first.get("xMax")) - float(first.get("xMin"))
                if right - float(line.get("xMax")) > width + SLACK:
                    words = " ".join(w.text for w in line.iter(XHTML + "word"))
                    found.append(f"page {number}: {words[-50:]!r} / {first.text!r}")
    return found


@pytest.mark.parametrize("lang", ALL_KINDS_LANGUAGES)
@pytest.mark.parametrize("kind", list(LetterKind))
def test_no_line_of_running_text_breaks_early(people, systems, kind, lang):  # noqa: F811
    case = build(kind, people, systems)
    made = operations.render_letter(case, kind, LetterLanguage(lang), today=TODAY)
    assert stray_breaks(made.pdf) == [], f"{kind.value} ({lang}): a line breaks early"


def test_the_check_finds_a_stray_break():
    from weasyprint import HTML

    text = ("Are we unable to resolve your complaint? You also have the right to submit a complaint to the {} "
            "regulator, the Dutch Data Protection Authority (Autoriteit Persoonsgegevens). You may also go to "
            "court (Article 79 GDPR).")
    style = "@page { size: A4; margin: 20mm } html { font-family: 'DejaVu Sans'; font-size: 9.5pt }"

    def pdf(paragraph: str) -> bytes:
        return HTML(string=f"<html lang='en'><style>{style}</style><p>{paragraph}</p></html>").write_pdf()

    assert stray_breaks(pdf(text.format("Dutch"))) == []
    assert stray_breaks(pdf(text.format("Dutch<br>"))) == ["page 1: 'Dutch' / 'regulator,'"]
