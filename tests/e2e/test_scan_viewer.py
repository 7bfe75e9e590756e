"""A scanned letter read beside the case in headless Chromium (issue 16, item 11).

A postal request is logged with a scanned letter (a PDF made by WeasyPrint, and a PNG); "View beside the
case" shows the scan next to the case's key facts. The frame and the image load from dsr itself under its
Content-Security-Policy (no violation in the console), the file arrives as application/pdf or image/png,
inline. Screenshots are saved under test-artifacts/e2e/ (scan-viewer-pdf.png, scan-viewer-png.png).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import CHROMIUM, SKIP_REASON
from tests.e2e.test_postal_intake import _login, _png

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not CHROMIUM.exists(), reason=SKIP_REASON)]

LETTER = """<html><body style="font-family: serif; margin: 2cm">
<p>Marloes de Wit<br>Lange Nieuwstraat 12<br>3512 PH Utrecht</p>
<p>Harmony<br>Postbus 21460<br>3001 AL Rotterdam</p>
<p>Utrecht, 20 november 2026</p>
<p><b>Betreft: verzoek om inzage en verwijdering, klantnummer HC7700451</b></p>
<p>Geachte heer, mevrouw,</p>
<p>Hierbij verzoek ik u om inzage in alle persoonsgegevens die u van mij verwerkt (artikel 15 AVG) en om
verwijdering van die gegevens zodra u ze niet meer hoeft te bewaren (artikel 17 AVG).</p>
<p>Met vriendelijke groet,</p><p><i>M. de Wit</i></p>
</body></html>"""


def _letter_pdf(path: Path) -> Path:
    from weasyprint import HTML

    HTML(string=LETTER).write_pdf(path)
    return path


def _log_with_scan(page, base: str, scan: Path) -> str:
    page.goto(f"{base}/cases/new")
    page.check("input[name=rights][value=access]")
    page.check("input[name=rights][value=erasure]")
    page.select_option("#channel", "post")
    page.select_option("#language", "nl")
    page.set_input_files("#scan", str(scan))
    page.fill("#name", "Marloes de Wit")
    page.fill("#address", "Lange Nieuwstraat 12")
    page.fill("#postcode", "3512 PH")
    page.fill("#city", "Utrecht")
    page.select_option("#country", "NL")
    page.fill("#customer_number", "HC7700451")
    with page.expect_navigation():
        page.get_by_role("button", name="Log request").click()
    assert re.search(r"/cases/DSR-\d{4}-\d{5}$", page.url), page.locator(".alert, .invalid-feedback").all_inner_texts()
    return page.locator("h1").inner_text().strip()


@pytest.mark.parametrize(("kind", "media_type"), [("pdf", "application/pdf"), ("png", "image/png")])
def test_a_scan_is_read_beside_the_case(live_server, e2e_page, artifacts, tmp_path, kind, media_type):
    page, watch = e2e_page
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    _login(page, base)
    scan = _letter_pdf(tmp_path / "brief-de-wit.pdf") if kind == "pdf" else _png(tmp_path / "brief-de-wit.png")
    reference = _log_with_scan(page, base, scan)

    with page.expect_response(re.compile(r"/attachments/\d+/inline$")) as served:
        page.locator(".list-group-item", has_text=scan.name).get_by_role("link", name="View beside the case").click()
    response = served.value
    assert response.status == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["content-disposition"].startswith("inline")
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    assert re.search(r"/attachments/\d+/view$", page.url)

    facts = page.locator("#key-facts")
    assert reference in facts.inner_text() and "Marloes de Wit" in facts.inner_text()
    assert "HC7700451" in facts.inner_text() and "Legal deadline" in facts.inner_text()
    viewer = page.locator(".scan-viewer, .scan-viewer-image")
    assert viewer.count() == 1 and viewer.first.is_visible()
    if kind == "png":
        assert page.eval_on_selector(".scan-viewer-image", "img => img.complete && img.naturalWidth") == 240
    else:
        box = viewer.first.bounding_box()
        assert box["width"] > 600 and box["height"] > 500  # the letter beside the facts, readable
        page.wait_for_timeout(1500)  # the browser's PDF viewer draws the page
    page.screenshot(path=str(artifacts / f"scan-viewer-{kind}.png"), full_page=True)
    watch.assert_clean()

    # The view is in the case's history.
    page.goto(f"{base}/cases/{reference}")
    assert f"viewed {scan.name}." in page.locator("main").inner_text()
