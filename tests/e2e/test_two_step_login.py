"""Two-step login in headless Chromium (issue 17, acceptance 4 and 12): a user sets up TOTP from the
preferences, logs out, and logs in again with the password and then the code from "their phone" (pyotp with
the key the page showed); a recovery code also works, once."""

from __future__ import annotations

import pyotp
import pytest

from dsr.demo.loader import DEMO_USERS

pytestmark = pytest.mark.e2e

# A demo user no other browser test signs in as (they share the server).
EMAIL, _NAME, _ROLE, PASSWORD = next(u for u in DEMO_USERS if u[0].startswith("staff2@"))


def _password_step(page, base_url):
    page.goto(f"{base_url}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/login/code")
    assert page.locator("h1").inner_text() == "Two-step login"


def _wait_for_fresh_code(totp: pyotp.TOTP) -> str:
    """A code from a time step no earlier login used (each code is accepted once)."""
    import time

    time.sleep(30 - time.time() % 30 + 0.5)
    return totp.now()


def test_set_up_totp_then_log_in_with_the_code_and_a_recovery_code(live_server, e2e_page, artifacts):
    page, watch = e2e_page
    base = live_server.url
    page.goto(f"{base}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/cases")

    page.goto(f"{base}/preferences")
    page.click("text=Two-step login")
    page.wait_for_url(f"{base}/account/two-step")
    secret = page.locator("#totp-secret").inner_text().strip()
    assert page.locator("#totp-uri").inner_text().startswith("otpauth://totp/dsr:")
    page.screenshot(path=str(artifacts / "two-step-setup.png"), full_page=True)
    totp = pyotp.TOTP(secret)
    page.fill("#code", totp.now())
    page.click("form:has(#code) button[type=submit]")
    codes = [c.strip() for c in page.locator("#recovery-codes code").all_inner_texts()]
    assert len(codes) == 10
    page.screenshot(path=str(artifacts / "two-step-recovery-codes.png"), full_page=True)
    page.click("button:has-text('Log out')")
    page.wait_for_url(f"{base}/login")

    _password_step(page, base)
    page.fill("#code", "000000" if totp.now() != "000000" else "999999")
    page.click("form:has(#code) button[type=submit]")
    assert "The code is not correct" in page.locator(".alert").first.inner_text()
    page.screenshot(path=str(artifacts / "two-step-wrong-code.png"), full_page=True)
    page.fill("#code", _wait_for_fresh_code(totp))
    page.click("form:has(#code) button[type=submit]")
    page.wait_for_url(f"{base}/cases")
    assert page.locator("h1").inner_text() == "Case queue"
    page.click("button:has-text('Log out')")
    page.wait_for_url(f"{base}/login")

    _password_step(page, base)
    page.fill("#code", codes[0])
    page.click("form:has(#code) button[type=submit]")
    page.wait_for_url(f"{base}/cases")
    assert "9 left" in page.locator(".alert").first.inner_text()
    page.click("button:has-text('Log out')")
    _password_step(page, base)
    page.fill("#code", codes[0])
    page.click("form:has(#code) button[type=submit]")
    assert page.url == f"{base}/login/code"
    watch.assert_clean()
