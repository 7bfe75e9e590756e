"""Answering an access request in headless Chromium, as staff would: find the data, confirm the match, make
the export, issue the completion letter in all three languages, and download both.

Runs the real app (see conftest.py); jobs run in the web process (no Redis), as for a newcomer. The
downloaded ZIP is checked against its own manifest and the PDF is read back with pypdf. Screenshots go to
test-artifacts/e2e/.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import zipfile

import pytest
from pypdf import PdfReader

from dsr.demo.loader import DEMO_USERS
from dsr.domain.enums import Role
from tests.e2e.conftest import CHROMIUM, SKIP_REASON

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not CHROMIUM.exists(), reason=SKIP_REASON)]


def _access_case(database) -> str:
    """An open access-only case of a demo customer that no one has searched for yet."""
    with sqlite3.connect(database) as conn:
        row = conn.execute("""
            SELECT c.reference FROM cases c JOIN data_subjects s ON s.id = c.subject_id
            WHERE c.state IN ('in_progress', 'awaiting_approval') AND s.customer_number IS NOT NULL
              AND (SELECT group_concat(r.right) FROM case_rights r WHERE r.case_id = c.id) = 'access'
              AND NOT EXISTS (SELECT 1 FROM lookups l WHERE l.case_id = c.id)
            ORDER BY c.id LIMIT 1""").fetchone()
    assert row, "the demo has no open access case for a customer of the demo systems"
    return row[0]


def _login_as_staff(page, base: str, role: Role = Role.STAFF) -> None:
    email, password = next((e, p) for e, _n, r, p in DEMO_USERS if r is role)
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/cases")


def test_staff_answer_an_access_request_with_export_and_letter(live_server, e2e_page, artifacts):
    page, watch = e2e_page
    base = live_server.url
    reference = _access_case(live_server.database)
    _login_as_staff(page, base)
    page.goto(f"{base}/cases/{reference}")

    page.click("button:has-text('Find the data')")
    page.wait_for_load_state()
    assert "records" in page.locator("#data").inner_text()
    page.click("#data button:has-text('Confirm')")
    page.wait_for_load_state()
    assert "match confirmed" in page.locator("#data").inner_text()

    # The preview reads Harmony's systems: a button that posts (issue 12.6), with a table of contents and
    # collapsible sections. Values that may hold other people's data wait for the privacy manager (Art. 15(4)).
    page.click("#access-link button")
    page.wait_for_load_state()
    assert page.locator("#access-toc").is_visible()
    assert page.locator("details#access-data > summary").count() == 1
    page.screenshot(path=str(artifacts / "access-preview-staff.png"), full_page=True)
    undecided = page.locator("#access-review .redaction-undecided").count()
    if undecided:  # this demo customer's records hold values that may concern others (not every one does)
        page.locator("#access-review section:has(.redaction-undecided) button:has-text('Prepare')").first.click()
        page.wait_for_load_state()
        assert page.locator("#access-review .redaction-proposed").count() == 1  # staff prepare, not decide

        _login_as_staff(page, base, Role.PRIVACY_MANAGER)
        page.goto(f"{base}/cases/{reference}")
        page.click("#access-link button")
        page.wait_for_load_state()
        for _ in range(undecided + 1):
            pending = page.locator("#access-review section:not(:has(.redaction-decided)) button:has-text('Decide')")
            if not pending.count():
                break
            pending.first.click()
            page.wait_for_load_state()
        assert page.locator("#access-review .redaction-decided").count() == undecided
        assert "all decided" in page.locator("#access-toc").inner_text()
        page.screenshot(path=str(artifacts / "access-preview-decided.png"), full_page=True)

    _login_as_staff(page, base)
    page.goto(f"{base}/cases/{reference}")

    page.select_option("#exports select[name$='kind']", "access")
    page.click("#exports button:has-text('Make an export')")
    page.wait_for_load_state()
    exports_card = page.locator("#exports").inner_text()
    assert "Access copy" in exports_card, exports_card

    # The paper archive and the processor are searched by a person: the letter reports that only once each
    # task is ticked done (issue 14.1).
    while page.locator("#tasks button:has-text('Done')").count():
        page.locator("#tasks button:has-text('Done')").first.click()
        page.wait_for_load_state()

    page.select_option("#letter-kind", "completion_access")
    page.select_option("#letter-language", "all")
    page.click("#letters button:has-text('Issue')")
    page.wait_for_load_state()
    jobs = page.locator("#jobs").inner_text()
    assert "failed" not in jobs and jobs.count("done") >= 2, jobs
    page.screenshot(path=str(artifacts / "access-answered.png"), full_page=True)

    with page.expect_download() as export_download:
        page.click("#exports a:has-text('Download')")
    data = export_download.value.path().read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["case_reference"] == reference
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"], entry["path"]
        document = json.loads(archive.read("data.json"))
        assert (document["case_reference"], document["kind"]) == (reference, "access") and document["collections"]

    with page.expect_download() as letter_download:
        page.click("#letters a:has-text('Completion: access')")
    pdf = PdfReader(io.BytesIO(letter_download.value.path().read_bytes()))
    text = "\n".join(p.extract_text() for p in pdf.pages)
    for words in (reference, "Autoriteit Persoonsgegevens", "inzage", "accès", "access"):
        assert words in text, words
    watch.assert_clean()
