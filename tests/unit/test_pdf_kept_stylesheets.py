"""A document's stylesheets from the asset folders are parsed once per thread (dsr.pdf): the PDF is the
same as WeasyPrint makes from the document as it is, the fetcher records the stylesheet and its fonts for
every document, a changed file is parsed again, and a link outside the assets is refused as before."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from dsr import pdf

LETTER_ASSETS = pdf.ASSET_ROOTS[0]
TYPED = "Zoë &lt;link rel=&quot;stylesheet&quot; href=&quot;letter.css&quot;&gt; O&#39;Brien"
HTML = ('<html><head><meta charset="utf-8"><link rel="stylesheet" href="letter.css"></head><body>'
        f'<h1>Uw verzoek</h1><p class="lead">{TYPED}</p>'
        + "".join(f"<p>Regel {n}: <strong>vet</strong> en <em>schuin</em></p>" for n in range(60))
        + "</body></html>")


def bare(html: str, base_dir: Path = LETTER_ASSETS, fetcher=None) -> bytes:
    """What WeasyPrint makes of the document as it is: the link fetched and parsed for this document."""
    import weasyprint

    return weasyprint.HTML(string=html, base_url=base_dir.resolve().as_uri() + "/",
                           url_fetcher=fetcher or pdf.safe_fetcher()).write_pdf()


def test_the_pdf_is_what_weasyprint_makes_of_the_document_as_it_is():
    first, second = pdf.render_pdf(HTML), pdf.render_pdf(HTML)  # parsed, then kept
    assert first == second == bare(HTML)
    assert pdf.render_counted([HTML, HTML])[1] == 2 * pdf.render_counted([HTML])[1]


def test_typed_text_that_reads_like_a_link_is_not_taken_out():
    assert pdf._STYLESHEET_LINK.findall(HTML) == ["letter.css"]  # the escaped one does not match


def test_every_document_records_the_stylesheet_and_its_fonts():
    for _ in range(2):
        fetcher = pdf.safe_fetcher()
        pdf.render_pdf(HTML, fetcher=fetcher)
        assert (LETTER_ASSETS / "letter.css").resolve().as_uri() in fetcher.fetched
        assert any(url.endswith(".ttf") for url in fetcher.fetched)
        assert all(url.startswith(LETTER_ASSETS.as_uri()) for url in fetcher.fetched)
        assert fetcher.refused == []


def _assets(tmp_path: Path, css: str) -> Path:
    folder = tmp_path / "assets"
    folder.mkdir(exist_ok=True)
    (folder / "fonts").mkdir(exist_ok=True)
    shutil.copy(LETTER_ASSETS / "fonts" / "DejaVuSans.ttf", folder / "fonts" / "DejaVuSans.ttf")
    (folder / "sheet.css").write_text(css)
    return folder


DOC = '<html><head><link rel="stylesheet" href="sheet.css"></head><body><p>Harmony</p></body></html>'
FACE = '@font-face { font-family: "T"; src: url(fonts/DejaVuSans.ttf); } body { font-family: "T"; }'


def test_a_changed_stylesheet_is_parsed_again(tmp_path):
    folder = _assets(tmp_path, FACE + " @page { size: A4; }")
    roots = (folder,)
    a4 = pdf.render_pdf(DOC, base_dir=folder, fetcher=pdf.safe_fetcher(roots))
    assert a4 == bare(DOC, folder, pdf.safe_fetcher(roots))
    sheet = folder / "sheet.css"
    sheet.write_text(FACE + " @page { size: A5; }")
    stat = sheet.stat()
    os.utime(sheet, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    a5 = pdf.render_pdf(DOC, base_dir=folder, fetcher=pdf.safe_fetcher(roots))
    assert a5 != a4 and a5 == bare(DOC, folder, pdf.safe_fetcher(roots))


def test_a_link_outside_the_assets_is_refused_as_before(tmp_path):
    folder = _assets(tmp_path, FACE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "sheet.css").write_text("body { color: red; }")
    fetcher = pdf.safe_fetcher((folder,))
    made = pdf.render_pdf(DOC, base_dir=elsewhere, fetcher=fetcher)
    assert fetcher.refused == [(elsewhere / "sheet.css").as_uri()] and fetcher.fetched == []
    assert made == bare(DOC, elsewhere, pdf.safe_fetcher((folder,)))


def test_each_thread_parses_its_own():
    made: dict[str, bytes] = {}
    fonts: dict[str, object] = {}

    def render(name: str) -> None:
        made[name] = pdf.render_pdf(HTML)
        fonts[name] = pdf._kept.font_config

    threads = [threading.Thread(target=render, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made["a"] == made["b"] == bare(HTML)
    assert fonts["a"] is not fonts["b"] and None not in fonts.values()


@pytest.mark.parametrize("name", ["letter.css", "report.css"])
def test_the_projects_stylesheets_are_found_in_the_assets(name):
    assert pdf._with_kept_stylesheets(f'<link rel="stylesheet" href="{name}">', LETTER_ASSETS,
                                      pdf.safe_fetcher())[0] == ""


def test_forgotten_stylesheets_are_parsed_again_for_the_next_document():
    pdf.render_pdf(HTML)
    kept = pdf._kept.font_config
    pdf.forget_kept_stylesheets()
    assert pdf._kept.sheets == {} and pdf._kept.font_config is None
    fetcher = pdf.safe_fetcher()
    assert pdf.render_pdf(HTML, fetcher=fetcher) == bare(HTML)
    assert pdf._kept.font_config is not None and pdf._kept.font_config is not kept
    assert any(url.endswith(".ttf") for url in fetcher.fetched)
