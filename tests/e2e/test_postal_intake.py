"""A newcomer's walk through dsr in headless Chromium: log in, log a postal request with a scan, find it.

Runs the real app (see conftest.py) and saves full-page screenshots to test-artifacts/e2e/ so a person
can look at the pages as well.
"""

from __future__ import annotations

import re
import sqlite3
import struct
import zlib
from datetime import date, timedelta
from pathlib import Path

import pytest

from dsr.demo.loader import DEMO_USERS
from dsr.domain.enums import Role
from tests.e2e.conftest import CHROMIUM, SKIP_REASON

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not CHROMIUM.exists(), reason=SKIP_REASON)]

REFERENCE = re.compile(r"DSR-\d{4}-\d{5}")
NAME = "Zoë Van den Broeck"
NOTES = "Brief ontvangen per post, handtekening aanwezig. <script>alert(1)</script> & meer"
SCRIPT = "<script>alert(1)</script>"
CUSTOMER_NUMBER = "HC9900123"  # not one of the demo numbers (HC1000000 + n * 37)


def _staff_login() -> tuple[str, str]:
    return next((email, password) for email, _n, role, password in DEMO_USERS if role is Role.STAFF)


def _png(path: Path, width: int = 240, height: int = 320) -> Path:
    """A small greyscale PNG that looks like a page with lines of text (enough for content sniffing)."""
    rows = []
    for y in range(height):
        inked = 30 <= y < height - 30 and (y // 6) % 3 == 0
        rows.append(b"\x00" + bytes(60 if inked and 24 <= x < width - 24 else 250 for x in range(width)))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
                     + chunk(b"IEND", b""))
    return path


def _login(page, base_url: str, artifacts: Path | None = None) -> None:
    email, password = _staff_login()
    page.goto(f"{base_url}/login")
    assert page.locator("h1").inner_text() == "Log in to dsr"
    if artifacts:
        page.screenshot(path=str(artifacts / "login.png"), full_page=True)
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/cases")
    assert page.locator("h1").inner_text() == "Case queue"


def _existing_customer_number(database: Path) -> tuple[str, str]:
    with sqlite3.connect(database) as conn:
        row = conn.execute(
            "SELECT customer_number, name FROM data_subjects WHERE customer_number IS NOT NULL ORDER BY id LIMIT 1"
        ).fetchone()
    assert row, "the demo loaded no data subject with a customer number"
    return row[0], row[1]


def test_postal_request_is_logged_with_scan_and_found_in_queue(live_server, e2e_page, artifacts, tmp_path):
    page, watch = e2e_page
    base = live_server.url
    _login(page, base, artifacts)
    assert page.locator("table.queue-table tbody tr").count() > 0
    page.screenshot(path=str(artifacts / "queue.png"), full_page=True)

    page.get_by_role("link", name="Log a request").first.click()
    page.wait_for_url(f"{base}/cases/new")
    assert page.locator("#received_on").input_value() != ""  # defaults to today
    page.screenshot(path=str(artifacts / "intake-empty.png"), full_page=True)

    received = date.today() - timedelta(days=12)
    page.check("input[name=rights][value=access]")
    page.check("input[name=rights][value=erasure]")
    page.select_option("#channel", "post")
    page.fill("#received_on", received.isoformat())
    page.select_option("#language", "nl")
    page.fill("#notes", NOTES)
    page.set_input_files("#scan", str(_png(tmp_path / "brief-van-den-broeck.png")))
    page.fill("#name", NAME)
    page.fill("#date_of_birth", "1984-02-29")
    page.fill("#address", "Oudegracht 231")
    page.fill("#postcode", "3511nk")
    page.fill("#city", "Utrecht")
    page.select_option("#country", "NL")
    page.fill("#email", "zoe.vandenbroeck@example.nl")
    page.fill("#customer_number", CUSTOMER_NUMBER)
    with page.expect_navigation():
        page.get_by_role("button", name="Log request").click()
    if not re.search(r"/cases/DSR-\d{4}-\d{5}$", page.url):
        page.screenshot(path=str(artifacts / "case-failed.png"), full_page=True)
        problems = page.locator(".alert, .invalid-feedback").all_inner_texts()
        pytest.fail(f"the request was not logged (still at {page.url}): {problems}")
    reference = page.locator("h1").inner_text().strip()
    assert REFERENCE.fullmatch(reference), reference
    assert page.url.endswith(f"/cases/{reference}")
    assert f"Request logged as {reference}." in page.locator(".alert-success").inner_text()

    body = page.locator("main").inner_text()
    assert NAME in body
    assert "3511 NK" in body  # the Dutch postcode, normalised
    assert "Access (Art. 15)" in body and "Erasure (Art. 17)" in body
    assert "Post" in body and "Dutch" in body
    notes = page.locator("dd.notes")
    assert notes.inner_text() == NOTES  # shown as text, exactly as typed
    assert SCRIPT in page.locator("main").text_content()
    assert page.locator("script", has_text="alert(1)").count() == 0  # not injected as an element

    attachment = page.locator(".list-group-item", has_text="brief-van-den-broeck.png")
    assert attachment.count() == 1
    assert "image/png" in attachment.inner_text()
    page.screenshot(path=str(artifacts / "case.png"), full_page=True)

    page.get_by_role("link", name="Queue").click()
    page.wait_for_url(f"{base}/cases")
    page.fill("#q", reference)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"/cases\?.*q="))
    row = page.locator("table.queue-table tbody tr", has_text=reference)
    assert row.count() == 1
    assert NAME in row.inner_text() and CUSTOMER_NUMBER in row.inner_text()
    assert page.locator("table.queue-table tbody tr").count() == 1
    page.screenshot(path=str(artifacts / "queue-search.png"), full_page=True)

    watch.assert_clean()


def test_match_panel_shows_a_known_subject_while_typing(live_server, e2e_page, artifacts):
    page, watch = e2e_page
    customer_number, known_name = _existing_customer_number(live_server.database)
    _login(page, live_server.url)
    page.goto(f"{live_server.url}/cases/new")
    panel = page.locator("#matches")
    assert "No known subject matches" in panel.inner_text()

    with page.expect_response(lambda r: "/cases/new/matches" in r.url and r.status == 200):
        page.locator("#customer_number").press_sequentially(customer_number, delay=20)
    match = panel.locator("label", has_text="Same person as")
    match.first.wait_for()
    assert f"Same person as {known_name}" in panel.inner_text()
    assert "customer number" in panel.inner_text()
    assert panel.locator("#link-none").is_checked()  # a repeat request is shown, not forced
    page.screenshot(path=str(artifacts / "intake-matches.png"), full_page=True)

    watch.assert_clean()


def test_failed_submit_shows_field_error_and_keeps_what_was_typed(live_server, e2e_page, artifacts):
    page, watch = e2e_page
    _login(page, live_server.url)
    page.goto(f"{live_server.url}/cases/new")
    page.fill("#name", NAME)
    page.fill("#email", "zoe.vandenbroeck@example.nl")
    page.fill("#notes", NOTES)
    with page.expect_response(lambda r: r.url.endswith("/cases/new") and r.request.method == "POST") as resp:
        page.get_by_role("button", name="Log request").click()
    assert resp.value.status == 400
    page.wait_for_load_state()

    assert "The request was not saved" in page.locator(".alert-danger").inner_text()
    assert page.locator(".rights-checks.is-invalid").count() == 1
    assert "Choose at least one right." in page.locator(".rights-checks .invalid-feedback").inner_text()
    assert page.locator("#name").input_value() == NAME
    assert page.locator("#notes").input_value() == NOTES
    assert page.locator("#email").input_value() == "zoe.vandenbroeck@example.nl"
    page.screenshot(path=str(artifacts / "intake-error.png"), full_page=True)

    watch.assert_clean()


def test_a_submit_waits_for_the_match_panel_and_logs_no_console_error(live_server, e2e_page, artifacts):
    """Issue 16, item 10: the last identifying field's change sets off the match panel's request as the
    "Log request" button takes the focus. Submitting at once used to cancel that request, and htmx reports a
    cancelled request as an error in the console ("htmx:sendAbort"). The form now waits for the panel's
    answer. The panel's answer is held back here (a slow server) so the request is surely in flight."""
    page, watch = e2e_page
    _login(page, live_server.url)
    page.goto(f"{live_server.url}/cases/new")
    # The other parts of the item: a scan over the limit is refused in the browser before any upload.
    page.set_input_files("#scan", files=[{"name": "big.pdf", "mimeType": "application/pdf",
                                          "buffer": b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024)}])
    assert "larger than 10 MB" in page.locator("#scan").evaluate("e => e.validationMessage")
    page.set_input_files("#scan", files=[])
    assert page.locator("#scan").evaluate("e => e.validationMessage") == ""
    page.check("input[name=rights][value=access]")
    page.select_option("#channel", "email")
    page.select_option("#language", "en")
    page.fill("#name", NAME)
    page.fill("#email", "zoe.vandenbroeck@example.nl")
    page.locator("#email").blur()  # its change asks the panel
    page.wait_for_load_state("networkidle")  # the panel has answered what was typed so far

    held, posted = [], []
    page.route("**/cases/new/matches*", lambda route: held.append(route))
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" and r.url.endswith("/cases/new")
            else None)
    page.fill("#customer_number", CUSTOMER_NUMBER)  # no key strokes: only its change, on leaving the field
    page.get_by_role("button", name="Log request").click()
    page.wait_for_timeout(1500)
    assert len(held) == 1, "the match panel's request was not in flight when the form was submitted"
    sent_early = list(posted)
    try:
        with page.expect_navigation(timeout=15_000):
            held[0].continue_()
    except Exception:  # the form was sent already; its answer cancelled the held request
        page.wait_for_load_state("networkidle")
    assert sent_early == [], ("the form was sent while the match panel's request was in flight (it gets "
                              f"cancelled); console errors: {watch.console_errors}")
    if not re.search(r"/cases/DSR-\d{4}-\d{5}$", page.url):
        page.screenshot(path=str(artifacts / "intake-wait-failed.png"), full_page=True)
        pytest.fail(f"the request was not logged (still at {page.url}): "
                    f"{page.locator('.alert, .invalid-feedback').all_inner_texts()}")
    assert len(posted) == 1
    assert watch.console_errors == [], watch.console_errors
    watch.assert_clean()
