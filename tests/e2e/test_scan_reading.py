"""Staff upload a scanned letter, see the suggestions and the boxed words, correct a field and log the case
(issue 19, item 8). Screenshots go to test-artifacts/e2e/."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from dsr.reading.engine import unavailable_reason
from tests.e2e.conftest import ARTIFACTS, CHROMIUM, SKIP_REASON
from tests.e2e.test_postal_intake import _login
from tests.fixtures.letters.corpus import load
from tests.fixtures.letters.degrade import degrade

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not CHROMIUM.exists(), reason=SKIP_REASON),
              pytest.mark.skipif(unavailable_reason() is not None, reason=f"no OCR: {unavailable_reason()}")]
LETTERS = Path(__file__).resolve().parent.parent / "fixtures" / "letters"


def test_a_scan_becomes_a_draft_that_staff_correct_and_log(live_server, e2e_page, tmp_path):
    page, watch = e2e_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    truth = load(6)  # a Dutch letter
    data, _media = degrade(LETTERS / "letter-06.pdf", "moderate", seed=6)
    scan = tmp_path / "brief-scan.jpg"
    scan.write_bytes(data)

    _login(page, live_server.url)
    page.goto(f"{live_server.url}/cases/new")
    page.set_input_files("#scan-to-read", str(scan))
    # The reading runs as a job: in-process in the embedded default (the upload answers when it is read),
    # on an RQ worker in production (the page shows its progress, then reloads with the result).
    page.click("text=Read the scan", timeout=180_000)
    page.wait_for_selector(".scan-page", timeout=180_000)
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.querySelector('.scan-page image').getBBox().width") > 0
    page.screenshot(path=str(ARTIFACTS / "scan-suggestions.png"), full_page=True)

    assert page.input_value("#postcode") == truth["fields"]["postcode"]
    assert page.input_value("#name") == truth["name"]
    assert page.locator("#postcode").get_attribute("data-suggested") in ("yes", "low")
    assert page.locator(".scan-page rect.word-suggested").count() >= 4
    for right in truth["rights"]:
        assert page.is_checked(f"input[name=rights][value={right}]")
    # The date of receipt stays today's; the letter's own date is shown beside it.
    assert "Letter dated" in page.inner_text("form#intake-form")
    # The match panel ran on the suggested identifiers.
    page.wait_for_selector("#matches")

    page.fill("#city", "Utrecht-Zuid")  # staff correct one field
    page.click("form#intake-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/cases/DSR-\d{4}-\d{5}$"))
    page.screenshot(path=str(ARTIFACTS / "scan-logged-case.png"), full_page=True)
    assert "Text read from this scan" in page.content()
    reference = page.url.rsplit("/", 1)[1]
    with sqlite3.connect(live_server.database) as conn:
        city, = conn.execute("SELECT s.city FROM cases c JOIN data_subjects s ON s.id = c.subject_id "
                             "WHERE c.reference = ?", (reference,)).fetchone()
        linked, = conn.execute("SELECT count(*) FROM scan_readings r JOIN attachments a ON a.id = r.attachment_id "
                               "JOIN cases c ON c.id = a.case_id WHERE c.reference = ?", (reference,)).fetchone()
    assert city == "Utrecht-Zuid" and linked == 1
    watch.assert_clean()
