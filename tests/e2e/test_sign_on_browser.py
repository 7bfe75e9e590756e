"""Sign-on through the OpenID provider in headless Chromium (issue 17, acceptance 4 and 12): dsr's own server
(configured with OIDC_* as an operator would) and a real oidc-provider on loopback ports; the person clicks
"Sign on", types their login at the provider, and lands in dsr's queue with the role of their claim."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.e2e.conftest import _FOREIGN_ENV, REPO_ROOT, _flask, _free_port, _run, _wait_until_up
from tests.oidc_support import CLIENT_ID, CLIENT_SECRET, oidc_provider

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory, live_server):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    accounts = {"mira": {"email": "mira.sso@harmony.example", "name": "Mira via sign-on",
                         "dsr_role": "privacy_manager"}}
    with oidc_provider([f"{base}/login/sso/callback"], accounts) as issuer:
        instance = tmp_path_factory.mktemp("dsr-sso") / "instance"
        log = instance.parent / "server.log"
        env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}
        env.update({"DSR_INSTANCE_PATH": str(instance), "PYTHONUNBUFFERED": "1", "OIDC_ISSUER": issuer,
                    "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
                    "OIDC_SCOPES": "openid email profile dsr"})
        flask = _flask()
        _run([flask, "--app", "wsgi", "db", "upgrade"], env, log)
        with log.open("a") as out:
            proc = subprocess.Popen([flask, "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(port)],
                                    cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_until_up(proc, f"{base}/login", log)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_sign_on_through_the_openid_provider(sso_server, chromium_browser, artifacts):
    context = chromium_browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{sso_server}/login")
        page.screenshot(path=str(artifacts / "sign-on-login.png"), full_page=True)
        page.click("#sso")
        page.wait_for_selector("input[name=login]")  # the provider's own login page
        page.screenshot(path=str(artifacts / "sign-on-provider.png"), full_page=True)
        page.fill("input[name=login]", "mira")
        if page.locator("input[name=password]").count():
            page.fill("input[name=password]", "any")
        page.click("button[type=submit]")
        page.wait_for_url(f"{sso_server}/cases")
        page.screenshot(path=str(artifacts / "sign-on-queue.png"), full_page=True)
        assert "Users" in page.locator("nav").inner_text()  # the manager's menu: the role came from the claim
        page.goto(f"{sso_server}/users/")  # privacy manager, from the claim
        assert page.locator("h1").inner_text() == "Users"
    finally:
        context.close()
