"""Accessibility of the pages a privacy team uses all day, checked by axe-core in headless Chromium (issue 16,
item 13): no serious or critical WCAG 2.1 A/AA violation on the queue, a case, intake, triage, the dashboard,
the escalation report and the preferences, in English, Dutch and French. Plus the skip link.
"""

from __future__ import annotations

import sqlite3

import pytest

from dsr.demo.loader import DEMO_USERS
from dsr.domain.enums import Role
from tests.e2e.conftest import CHROMIUM, FAILING_IMPACTS, SKIP_REASON, axe_violations

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not CHROMIUM.exists(), reason=SKIP_REASON)]

PAGES = {
    "queue": "/cases",
    "case": "/cases/{reference}",
    "intake": "/cases/new",
    "triage": "/triage",
    "dashboard": "/dashboard",
    "escalations": "/reports/escalations",
    "preferences": "/preferences",
}


def _manager() -> tuple[str, str]:
    return next((email, password) for email, _n, role, password in DEMO_USERS if role is Role.PRIVACY_MANAGER)


def _set_locale(live_server, email: str, locale: str) -> None:
    with sqlite3.connect(live_server.database) as db:
        db.execute("UPDATE users SET locale = ? WHERE email = ?", (locale, email))


def _login(page, url: str, email: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/cases")


def _busy_case(live_server) -> str:
    """An open demo case with the most history: the fullest case page."""
    with sqlite3.connect(live_server.database) as db:
        return db.execute(
            "SELECT c.reference FROM cases c JOIN audit_events e ON e.case_id = c.id "
            "WHERE c.state NOT IN ('completed', 'refused', 'withdrawn', 'closed') "
            "GROUP BY c.id ORDER BY count(*) DESC, c.id LIMIT 1").fetchone()[0]


@pytest.mark.parametrize("locale", ["en", "nl", "fr"])
def test_no_serious_or_critical_violation_on_the_daily_pages(live_server, e2e_page, artifacts, axe_source, locale):
    page, watch = e2e_page
    email, password = _manager()
    _set_locale(live_server, email, locale)
    try:
        _login(page, live_server.url, email, password)
        reference = _busy_case(live_server)
        found: dict[str, list[dict]] = {}
        for name, path in PAGES.items():
            response = page.goto(live_server.url + path.format(reference=reference))
            assert response.status == 200, (name, response.status)
            assert page.locator("html").get_attribute("lang") == locale
            violations = axe_violations(page, axe_source)
            serious = [v for v in violations if v["impact"] in FAILING_IMPACTS]
            if serious:
                found[name] = serious
                page.screenshot(path=str(artifacts / f"a11y-{locale}-{name}.png"), full_page=True)
        assert not found, "axe-core found serious or critical violations:\n" + "\n".join(
            f"{name}: {v['id']} ({v['impact']}) {v['help']} at {v['nodes']}" for name, vs in found.items() for v in vs)
        watch.assert_clean()
    finally:
        _set_locale(live_server, email, "en")


def test_the_skip_link_is_the_first_stop_and_jumps_to_the_content(live_server, e2e_page):
    page, _watch = e2e_page
    email, password = _manager()
    _login(page, live_server.url, email, password)
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.textContent.trim(), document.activeElement.getAttribute('href')]")
    assert focused == ["Skip to the content", "#main"]
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
