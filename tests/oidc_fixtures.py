"""A real OpenID Connect provider for the tests: tests/oidc_provider/provider.js
(node-oidc-provider from npm) started on a free localhost port.

CI installs it with `npm ci --prefix tests/oidc_provider`. Without node or its
node_modules the tests skip, saying why, unless AGC_REQUIRE_OIDC=1 (CI), when they fail."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc_provider"
CLIENT_ID = "agc-console"
CLIENT_SECRET = "agc-console-secret"
ROLE_MAP = {
    "agc-admins": ["Governance admins"],
    "agc-approvers": ["Approvers"],
    "agc-leadership": ["Leadership"],
    "agc-auditors": ["Auditors"],
}


@dataclass
class LocalProvider:
    issuer: str
    accounts_file: Path

    def accounts_set(self, accounts: dict) -> None:
        """The provider reads its accounts at every request: this is who exists now."""
        self.accounts_file.write_text(json.dumps(accounts))

    def sign_in_at_provider(self, authorize_url: str, account: str) -> str:
        """Follow the console's redirect through the provider's sign-in page as `account`;
        return the URL the provider sends the browser back to (the console's callback)."""
        http = requests.Session()
        url = authorize_url
        for _ in range(10):
            response = http.get(url, allow_redirects=False, timeout=10)
            if response.status_code == 200 and "/interaction/" in url:
                response = http.post(url, data={"login": account}, allow_redirects=False)
            if response.status_code not in (302, 303):
                raise AssertionError(f"provider answered {response.status_code}: {response.text}")
            url = urljoin(url, response.headers["Location"])
            if not url.startswith(self.issuer):
                return url
        raise AssertionError("the provider never sent the browser back")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def provider_unavailable() -> str | None:
    if not shutil.which("node"):
        return "node not found: apt-get install nodejs npm"
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return "the test OpenID provider is not installed: npm ci --prefix tests/oidc_provider"
    return None


@contextmanager
def running_provider(tmp_path: Path, redirect_uris: list[str], accounts: dict | None = None):
    """Start provider.js on a free port; stop it afterwards."""
    reason = provider_unavailable()
    if reason:
        if os.environ.get("AGC_REQUIRE_OIDC") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    accounts_file = tmp_path / "oidc-accounts.json"
    provider = LocalProvider(issuer=issuer, accounts_file=accounts_file)
    provider.accounts_set(accounts or {})
    env = {
        **os.environ,
        "OIDC_TEST_PORT": str(port),
        "OIDC_TEST_ISSUER": issuer,
        "OIDC_TEST_ACCOUNTS": str(accounts_file),
        "OIDC_TEST_REDIRECT_URIS": ",".join(redirect_uris),
    }
    log = tmp_path / "oidc-provider.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [shutil.which("node"), str(PROVIDER_DIR / "provider.js")],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 20
        while "listening on" not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the test provider did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield provider
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def configure_console(settings, provider: LocalProvider, **overrides) -> None:
    """The console's OIDC settings for `provider`, as the environment would set them."""
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_PROVIDER_NAME = "Test provider"
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_RP_SCOPES = "openid email profile groups"
    settings.OIDC_ROLE_MAP = ROLE_MAP
    for name, value in overrides.items():
        setattr(settings, name, value)


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"
