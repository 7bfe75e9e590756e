"""End-to-end fixtures: the real app in a subprocess, started as a newcomer would, and headless Chromium.

The server gets a fresh instance folder (SQLite database, storage, secret key) and is prepared with the
same commands the README and ``make run`` use: ``flask db upgrade``, ``flask dsr demo --if-empty`` and
``flask run``. Playwright drives the Debian Chromium at /usr/bin/chromium (nothing is downloaded).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
# Variables that would point the server at something other than a fresh, embedded instance.
_FOREIGN_ENV = ("DATABASE_URL", "SECRET_KEY", "REDIS_URL", "STORAGE_DIR", "DSR_ENV", "DEMO_SYSTEMS_URL",
                "FLASK_APP", "FLASK_DEBUG", "FLASK_RUN_HOST", "FLASK_RUN_PORT")
START_TIMEOUT = 30.0
SKIP_REASON = (f"end-to-end tests need Chromium at {CHROMIUM}, which is not installed "
               "(on Debian: apt-get install chromium, or run scripts/system-deps.sh as root)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flask() -> str:
    # The venv's own bin dir (not resolved: .venv/bin/python is a symlink to the system interpreter).
    flask = Path(sys.executable).parent / "flask"
    if not flask.exists():
        pytest.fail(f"flask is not installed next to {sys.executable}; run `make test` to set up the venv")
    return str(flask)


def _run(cmd: list[str], env: dict[str, str], log: Path) -> None:
    result = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    with log.open("a") as fh:
        fh.write(f"$ {' '.join(cmd)}\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0:
        pytest.fail(f"`{' '.join(cmd)}` failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


@dataclass(frozen=True)
class LiveServer:
    url: str
    instance: Path
    log: Path

    @property
    def database(self) -> Path:
        return self.instance / "dsr.sqlite3"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> LiveServer:
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(SKIP_REASON + "; with CI=true that fails the run")
        pytest.skip(SKIP_REASON)
    base = tmp_path_factory.mktemp("dsr-e2e")
    instance = base / "instance"
    log = base / "server.log"
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}
    env["DSR_INSTANCE_PATH"] = str(instance)
    env["PYTHONUNBUFFERED"] = "1"
    flask = _flask()

    _run([flask, "--app", "wsgi", "db", "upgrade"], env, log)
    _run([flask, "--app", "wsgi", "dsr", "demo", "--if-empty"], env, log)

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("a") as out:
        proc = subprocess.Popen(
            [flask, "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(proc, f"{url}/login", log)
        yield LiveServer(url=url, instance=instance, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait_until_up(proc: subprocess.Popen, url: str, log: Path) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
    deadline = time.monotonic() + START_TIMEOUT
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the dsr server exited with {proc.returncode} before answering:\n{log.read_text()}")
        try:
            with opener.open(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last_error = exc
        time.sleep(0.25)
    pytest.fail(f"the dsr server did not answer {url} within {START_TIMEOUT:.0f} s ({last_error}):\n"
                f"{log.read_text()}")


@pytest.fixture(scope="session")
def chromium_browser(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watch:
    """What the browser did besides rendering: dialogs, console errors, requests to other hosts."""

    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    failed_assets: list[str] = field(default_factory=list)

    @property
    def csp_violations(self) -> list[str]:
        return [m for m in self.console_errors if "content security policy" in m.lower()]

    def assert_clean(self) -> None:
        assert self.dialogs == [], f"a dialog fired (script ran?): {self.dialogs}"
        assert self.csp_violations == [], f"Content-Security-Policy violations: {self.csp_violations}"
        assert self.page_errors == [], f"JavaScript errors: {self.page_errors}"
        assert self.foreign_requests == [], f"requests to hosts other than 127.0.0.1: {self.foreign_requests}"
        assert self.failed_assets == [], f"stylesheets, scripts or images that did not load: {self.failed_assets}"


@pytest.fixture
def e2e_page(chromium_browser):
    """A fresh browser context (no cookies) and page, with its dialogs, console and requests recorded."""
    context = chromium_browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    context.set_default_timeout(10_000)
    watch = Watch()

    def on_request(request):
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != "127.0.0.1":
            watch.foreign_requests.append(request.url)

    def on_response(response):
        # A page whose CSS or htmx does not load still "works" but looks broken: catch it here.
        # /favicon.ico is Chromium's own guess (the pages declare no icon), not an asset of the page.
        if (response.status >= 400 and response.request.resource_type != "document"
                and urlsplit(response.url).path != "/favicon.ico"):
            watch.failed_assets.append(f"{response.status} {response.url}")

    def on_dialog(dialog):
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_console(message):
        if message.type == "error":
            watch.console_errors.append(message.text)

    context.on("request", on_request)
    context.on("response", on_response)
    page = context.new_page()
    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", lambda exc: watch.page_errors.append(str(exc)))
    try:
        yield page, watch
    finally:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


E2E_DIR = Path(__file__).resolve().parent
AXE_JS = E2E_DIR / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script, installed from the npm registry at the version tests/e2e/package-lock.json pins.

    `make test` installs it (`npm ci --prefix tests/e2e`); a test run started otherwise installs it here.
    """
    if not AXE_JS.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("axe-core is not installed and npm is missing: apt-get install npm, then `make test`")
        result = subprocess.run([npm, "ci", "--prefix", str(E2E_DIR), "--no-audit", "--no-fund"],
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0 or not AXE_JS.exists():
            pytest.fail(f"`npm ci --prefix tests/e2e` failed:\n{result.stdout}\n{result.stderr}")
    return AXE_JS.read_text(encoding="utf-8")


# Rules axe reports at these impacts fail a page (WCAG 2.1 A and AA; "moderate" and "minor" are reported
# in the test output but do not fail it).
FAILING_IMPACTS = ("serious", "critical")


def axe_violations(page, axe_source: str) -> list[dict]:
    """Run axe-core in the page (injected as a script: the page's CSP allows only its own scripts, so it is
    added through the DevTools protocol, not a <script> tag) and return its violations."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    return page.evaluate("""async () => {
        const result = await window.axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
    }""")
