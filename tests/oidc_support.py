"""A real OpenID provider for the sign-on tests: the npm package oidc-provider (tests/oidc/package-lock.json,
installed by `make oidc-deps`, which `make test` runs), started with the machine's Node.js on a free loopback
port. Not a mock: discovery, the authorization code, the token endpoint and the signed ID token are its own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
CLIENT_ID, CLIENT_SECRET = "dsr-test", "dsr-test-client-secret-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def oidc_provider(redirect_uris: list[str], accounts: dict[str, dict]):
    node = shutil.which("node")
    missing = None if node else "node is not installed"
    if not (OIDC_DIR / "node_modules" / "oidc-provider").exists():
        missing = "tests/oidc/node_modules is missing: run `make oidc-deps` (npm ci --prefix tests/oidc)"
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    port = _free_port()
    env = {**os.environ, "OIDC_PORT": str(port), "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
           "OIDC_REDIRECT_URIS": " ".join(redirect_uris), "OIDC_ACCOUNTS": json.dumps(accounts)}
    proc = subprocess.Popen([node, "provider.mjs"], cwd=OIDC_DIR, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"oidc-provider did not start:\n{proc.stdout.read() if proc.stdout else ''}")
                time.sleep(0.2)
        yield issuer
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def sign_in_at_provider(session, url: str, login: str, stop_prefix: str) -> str:
    """Follow the provider's pages as a browser would, typing ``login`` into its login form, until it sends
    the browser back to ``stop_prefix``; that URL."""
    for _ in range(12):
        if url.startswith(stop_prefix):
            return url
        response = session.get(url, allow_redirects=False)
        if response.is_redirect:
            url = urljoin(url, response.headers["Location"])
            continue
        form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', response.text, re.S)
        assert form, response.text[:500]
        fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form.group(2)))
        names = re.findall(r'<input[^>]*name="([^"]+)"', form.group(2))
        data = {n: unescape(fields.get(n, "")) for n in names}
        if "login" in data:
            data["login"] = login
        if "password" in data:
            data["password"] = "any"
        posted = session.post(urljoin(url, unescape(form.group(1))), data=data, allow_redirects=False)
        assert posted.is_redirect, posted.text[:500]
        url = urljoin(url, posted.headers["Location"])
    raise AssertionError(f"the provider never sent the browser back to {stop_prefix}")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")
