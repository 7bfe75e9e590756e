"""What a privacy team meets on day one (issue 16), walked in headless Chromium in Dutch and French, on a
1440 px screen and a 375 px phone: triage that does not unassign by accident, the next step as the primary
button and answers that say what happened, confirmation before ending a case, the completion checklist,
evidence before confirming a match, the queue's tools, and pages that fit.

Screenshots go to test-artifacts/e2e/day-one-*.png (looked at by a person when the interface changes).
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from dsr.demo.loader import DEMO_USERS
from tests.e2e.conftest import CHROMIUM, SKIP_REASON

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not CHROMIUM.exists(), reason=SKIP_REASON)]

USERS = {email.split("@")[0]: (email, password) for email, _n, _r, password in DEMO_USERS}
OPEN = "('received', 'identity_check', 'in_progress', 'awaiting_approval')"


@pytest.fixture(autouse=True)
def _english_again(live_server):
    """The server is shared with the other browser tests: every user reads English again afterwards."""
    yield
    _db(live_server, "UPDATE users SET locale = 'en'")


def _db(live_server, sql: str, *params):
    with sqlite3.connect(live_server.database) as db:
        return db.execute(sql, params).fetchall()


def _as(live_server, browser, who: str, locale: str, width: int = 1440, height: int = 900):
    email, password = USERS[who]
    _db(live_server, "UPDATE users SET locale = ? WHERE email = ?", locale, email)
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/cases")
    return context, page, errors


def _shot(page, artifacts, name: str) -> None:
    page.screenshot(path=str(artifacts / f"day-one-{name}.png"), full_page=True)


def test_triage_start_work_next_step_and_confirmation_in_dutch(live_server, chromium_browser, artifacts):
    ref = _db(live_server, "SELECT reference FROM cases WHERE state = 'received' ORDER BY id LIMIT 1")[0][0]
    context, page, errors = _as(live_server, chromium_browser, "manager", "nl")
    try:
        page.goto(f"{live_server.url}/triage")
        # The person to assign to starts empty and must be chosen; unassigning is its own button.
        assert page.eval_on_selector("#assignee", "s => s.value") == ""
        assert page.eval_on_selector("#assignee", "s => s.required")
        assert page.locator("button[value=unassign]").inner_text() == "Toewijzing opheffen"
        page.locator(f"input[name=case][value^='{ref}:']").check()
        before = _db(live_server, "SELECT assignee_id, version FROM cases WHERE reference = ?", ref)[0]
        page.click("button[value=assign]")  # nobody chosen: the browser stops the form
        assert page.url.endswith("/triage")
        assert _db(live_server, "SELECT assignee_id, version FROM cases WHERE reference = ?", ref)[0] == before
        _shot(page, artifacts, "nl-1440-triage")
        # Taking a case off someone is its own, explicit button.
        page.click("button[value=unassign]")
        page.wait_for_load_state()
        assert page.locator(".alert-success").first.inner_text() == "Toewijzing van 1 verzoek opgeheven."
        assert _db(live_server, "SELECT assignee_id FROM cases WHERE reference = ?", ref)[0][0] is None
    finally:
        context.close()

    context, page, errors = _as(live_server, chromium_browser, "staff", "nl")
    try:
        page.goto(f"{live_server.url}/cases/{ref}")
        primary = page.locator(".next-steps .btn-primary").first
        assert primary.inner_text() == "In behandeling nemen"
        primary.click()
        page.wait_for_load_state()
        flash = page.locator(".alert-success").first.inner_text()
        assert flash == "Behandeling gestart; het verzoek is toegewezen aan Sam Staff."
        assert _db(live_server, "SELECT u.name FROM cases c JOIN users u ON u.id = c.assignee_id "
                                "WHERE c.reference = ?", ref)[0][0] == "Sam Staff"
        # In progress without a search: the next step is finding the data, not submitting for approval.
        assert page.locator(".next-steps .btn-primary").first.inner_text() == "Gegevens zoeken"
        assert page.locator(".next-steps").inner_text().count("Ter goedkeuring") == 0
        _shot(page, artifacts, "nl-1440-case-after-start")

        # Withdrawing asks first, says what will happen, and Cancel changes nothing.
        page.locator("details:has(form[action$='/act/withdraw']) > summary").click()
        page.fill("#withdraw-how", "Telefoongesprek")
        page.click("form[action$='/act/withdraw'] button[type=submit]")
        page.wait_for_load_state()
        assert "Dit kan niet ongedaan worden gemaakt." in page.locator(".confirm-step").inner_text()
        _shot(page, artifacts, "nl-1440-confirm-withdraw")
        page.click(".confirm-step a.btn-outline-secondary")
        page.wait_for_url(f"{live_server.url}/cases/{ref}")
        assert _db(live_server, "SELECT state FROM cases WHERE reference = ?", ref)[0][0] == "in_progress"
        assert errors == []
    finally:
        context.close()


def test_evidence_checklist_and_history_in_french(live_server, chromium_browser, artifacts):
    ref = _db(live_server, "SELECT reference FROM cases WHERE state = 'in_progress' AND id NOT IN "
                           "(SELECT case_id FROM lookups) AND subject_id IS NOT NULL ORDER BY id LIMIT 1")[0][0]
    context, page, errors = _as(live_server, chromium_browser, "staff", "fr")
    try:
        page.goto(f"{live_server.url}/cases/{ref}")
        checklist = page.locator(".checklist").inner_text()
        assert "Une recherche dans les systèmes de Harmony" in checklist
        page.click("#data form[action$='/data/lookup'] button[type=submit]")
        page.wait_for_load_state()
        evidence = page.locator("#match-evidence")
        assert "Comparez avant de confirmer" in evidence.inner_text()
        assert evidence.locator(".badge.text-bg-success").count() >= 1
        page.locator("#match-evidence").scroll_into_view_if_needed()
        _shot(page, artifacts, "fr-1440-match-evidence")
        # The history reads as sentences in French.
        history = page.locator("ol.timeline").inner_text()
        assert "a consulté les systèmes de Harmony" in history
        assert "lookup.run" not in history
        assert errors == []
    finally:
        context.close()

    ref = _db(live_server, "SELECT reference FROM cases WHERE state = 'awaiting_approval' ORDER BY id LIMIT 1")[0][0]
    context, page, errors = _as(live_server, chromium_browser, "manager", "fr")
    try:
        page.goto(f"{live_server.url}/cases/{ref}")
        page.fill("#complete-decision", "Réponse envoyée")
        page.click("form[action$='/act/complete'] button[type=submit]")
        page.wait_for_load_state()
        assert page.locator(".alert-danger", has_text="La demande ne peut pas encore être terminée").count() == 1
        assert _db(live_server, "SELECT state FROM cases WHERE reference = ?", ref)[0][0] == "awaiting_approval"
        _shot(page, artifacts, "fr-1440-checklist-refused")
    finally:
        context.close()


def test_queue_sorting_csv_and_saved_view_in_dutch(live_server, chromium_browser, artifacts):
    context, page, errors = _as(live_server, chromium_browser, "manager", "nl")
    try:
        page.click("th.sortable a:has-text('Ontvangen')")
        page.wait_for_load_state()
        assert "sort=received" in page.url
        received = page.locator("th[aria-sort]").inner_text()
        assert received.startswith("Ontvangen")
        assert "sort=received" in page.get_attribute("#queue-csv", "href")
        page.fill("#view-name", "Op ontvangst")
        page.click("form[action$='/cases/views'] button[type=submit]")
        page.wait_for_load_state()
        assert page.locator(".saved-view a[aria-current=true]").inner_text() == "Op ontvangst"
        assert page.locator("input[form=bulk][name=case]").count() > 0
        _shot(page, artifacts, "nl-1440-queue-tools")
        with page.expect_download() as download:
            page.click("#queue-csv")
        assert download.value.suggested_filename.startswith("dsr-queue-")
        assert errors == []
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["nl", "fr"])
@pytest.mark.parametrize("width", [1280, 1440])
def test_the_menu_and_dashboard_fit_on_a_laptop(live_server, chromium_browser, artifacts, locale, width):
    context, page, errors = _as(live_server, chromium_browser, "manager", locale, width=width)
    try:
        for path in ("/cases", "/dashboard"):
            page.goto(live_server.url + path)
            box = page.locator("form[action$='/logout'] button").bounding_box()
            assert box is not None and box["x"] + box["width"] <= width, f"Log out clipped on {path}"
            nav_height = page.locator("nav.navbar").bounding_box()["height"]
            assert nav_height < 70, f"the menu wraps onto a second line on {path} ({nav_height}px)"
        matrix = page.locator(".open-matrix").evaluate("t => [t.parentElement.scrollWidth, t.parentElement.clientWidth]")
        assert matrix[0] <= matrix[1], "the dashboard's table hides columns"
        _shot(page, artifacts, f"{locale}-{width}-dashboard")
        assert errors == []
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["nl", "fr"])
def test_a_phone_gets_a_collapsed_menu_and_usable_queue_and_case(live_server, chromium_browser, artifacts, locale):
    context, page, errors = _as(live_server, chromium_browser, "staff", locale, width=375, height=812)
    try:
        toggler = page.locator(".navbar-toggler")
        assert toggler.is_visible()
        assert not page.locator("#main-nav").is_visible()
        toggler.click()
        page.wait_for_selector("#main-nav.show")
        assert page.locator("#main-nav a.nav-link").first.is_visible()
        _shot(page, artifacts, f"{locale}-375-menu-open")
        page.goto(f"{live_server.url}/cases")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 375, f"the queue is {width}px wide on a 375px phone"
        table = page.locator(".queue-table").evaluate("t => [t.parentElement.scrollWidth, t.parentElement.clientWidth]")
        assert table[0] <= table[1] + 1, "the queue's table scrolls sideways on a phone"
        _shot(page, artifacts, f"{locale}-375-queue")
        ref = page.locator(".queue-table td.ref a").first.inner_text()
        page.goto(f"{live_server.url}/cases/{ref}")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
        assert page.locator("#actions").is_visible()
        _shot(page, artifacts, f"{locale}-375-case")
        assert errors == []
    finally:
        context.close()


# Codes that are the data map's or the database's, never words a person reads: snake_case words
# ("premium_payments", "legitimate_interests", "awaiting_approval"), fideslang keys ("user.contact.email"),
# audit actions ("task.added"), raw ISO dates and ambiguous numeric dates. The audit trail page shows the raw
# before/after on purpose and is not read here.
RAW_CODE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b|\b(?:user|system)\.[a-z_.]+\b|\b(?:case|task|lookup|erasure|"
                      r"objection|letter|identity)\.[a-z_]+\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b")
# English that must not be left on a Dutch or French page.
ENGLISH = re.compile(r"\bGDPR\b|\bCheck (?:Paper archive|Focus Feedback)\b|\bUser Contact\b|\bOperations Data\b")


@pytest.mark.parametrize("locale", ["nl", "fr"])
def test_no_raw_codes_on_the_main_pages(live_server, chromium_browser, artifacts, locale):
    """The queue, triage, dashboard, escalations, intake and the case pages of every state (with a search
    and its found records) read as words in Dutch and French: no table, column or category keys, no
    English leftovers, dates as "6 dec 2026"."""
    refs = [r for (r,) in _db(live_server, "SELECT min(reference) FROM cases GROUP BY state")]
    searched = _db(live_server, "SELECT c.reference, l.id FROM cases c JOIN lookups l ON l.case_id = c.id "
                                "WHERE l.status = 'found' ORDER BY l.id DESC LIMIT 1")
    pages = ["/cases", "/triage", "/dashboard", "/reports/escalations", "/cases/new", "/declared-days/",
             "/preferences", *[f"/cases/{r}" for r in refs]]
    if searched:
        pages += [f"/cases/{searched[0][0]}", f"/cases/{searched[0][0]}/lookup/{searched[0][1]}"]
    context, page, errors = _as(live_server, chromium_browser, "manager", locale)
    try:
        found = {}
        for path in pages:
            page.goto(live_server.url + path)
            text = page.evaluate("() => document.querySelector('main').innerText")
            bad = sorted(set(RAW_CODE.findall(text)) | set(ENGLISH.findall(text)))
            if bad:
                found[path] = bad[:8]
        if searched:
            page.goto(f"{live_server.url}/cases/{searched[0][0]}/lookup/{searched[0][1]}")
            _shot(page, artifacts, f"{locale}-1440-found-records")
        assert found == {}, found
        assert errors == []
    finally:
        context.close()
