"""The local OpenID Connect provider (server.js, the `oidc-provider` package under Node.js) as
pytest fixtures, and a small HTTP client that plays the person at the provider's pages.

`make test` installs the node modules (its `oidc` target); when they are missing, the fixture
runs `npm ci` itself.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import shutil
import subprocess
import time
from dataclasses import dataclass
from html import unescape
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urljoin
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

import pytest

HERE = Path(__file__).resolve().parent
CLIENT_ID = "grc-test"
CLIENT_SECRET = "grc-test-secret-0123456789abcdef"
# The people server.js knows, as its signed userinfo describes them.
ANGELA = {
    "given_name": "Angela Claire Louise",
    "family_name": "DUBOIS",
    "birthdate": "1962-08-24",
    "birthplace": "75107",
    "email": "angela.dubois@fc.test",
}
PIERRE = {"email": "pierre.mercier@fc.test", "preferred_username": "DUBOIS-MERCIER"}


def _missing(what: str) -> None:
    pytest.fail(
        f"{what} is needed for the FranceConnect tests (they run a real OpenID Connect "
        "provider, tests/oidc_provider/server.js): install Debian's 'nodejs' and 'npm' "
        "packages (Node.js >= 20.19), then 'make oidc'."
    )


def ensure_node_modules() -> str:
    """The path of node, once `npm ci` has installed the provider's packages."""
    node = shutil.which("node")
    if not node:
        _missing("Node.js")
    # Several xdist workers may get here at once: one installs, the others wait.
    with open(HERE / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (HERE / "node_modules" / "oidc-provider").is_dir():
            npm = shutil.which("npm")
            if not npm:
                _missing("npm")
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=HERE,
                capture_output=True,
                text=True,
                timeout=300,
            )
            if result.returncode != 0:
                pytest.fail(f"npm ci failed in {HERE}:\n{result.stdout}\n{result.stderr}")
    return node


@dataclass
class OidcProvider:
    issuer: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    def session(self) -> ProviderSession:
        return ProviderSession(self)


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class ProviderSession:
    """A person's browser at the provider, without a browser: cookies, forms, redirects."""

    def __init__(self, provider: OidcProvider):
        self.provider = provider
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()), _NoRedirect())

    def fetch(self, url: str, data: dict | None = None) -> tuple[int, str, str]:
        """(status, Location, body)."""
        body = urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(Request(url, data=body), timeout=10) as response:
                return response.status, "", response.read().decode()
        except HTTPError as answer:
            return answer.code, answer.headers.get("Location", ""), answer.read().decode()

    def _follow(self, url: str, data: dict | None = None) -> tuple[str, str]:
        """Follow the provider's redirects: (the first address outside it, or "", last page)."""
        status, location, body = self.fetch(url, data)
        for _hop in range(10):
            if status not in (301, 302, 303, 307, 308):
                return "", body
            target = urljoin(url, location)
            if not target.startswith(self.provider.issuer):
                return target, body
            url = target
            status, location, body = self.fetch(url)
        raise AssertionError("too many redirects at the provider")

    def authorize(self, url: str, *, person: str = "angela", refuse: bool = False) -> str:
        """Log in at the provider as `person` and consent (or refuse); return the address the
        provider sends back to (our callback, with code and state)."""
        target, page = self._follow(url)
        if target:
            return target  # already logged in at the provider
        match = re.search(r'action="(/interaction/[^"/]+)/login"', page)
        assert match, page
        if refuse:
            target, page = self._follow(urljoin(url, f"{match.group(1)}/abort"), {})
        else:
            target, page = self._follow(urljoin(url, f"{match.group(1)}/login"), {"person": person})
        assert target, page
        return target

    def end_session(self, url: str) -> str:
        """Confirm the logout at the provider; return where it sends back to."""
        target, page = self._follow(url)
        if target:
            return target
        action = re.search(r'<form[^>]*action="([^"]+)"', page)
        xsrf = re.search(r'name="xsrf" value="([^"]+)"', page)
        assert action and xsrf, page
        target, page = self._follow(
            urljoin(url, unescape(action.group(1))), {"xsrf": xsrf.group(1), "logout": "yes"}
        )
        assert target, page
        return target


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """server.js on a free port of 127.0.0.1, for the whole session."""
    node = ensure_node_modules()
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with open(log, "w") as errors:
        process = subprocess.Popen(
            [node, "server.js"],
            cwd=HERE,
            env={**os.environ, "PORT": "0", "NODE_ENV": "test"},
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    try:
        issuer = _wait_for_start(process, log)
        yield OidcProvider(issuer=issuer)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_start(process: subprocess.Popen, log: Path) -> str:
    deadline = time.monotonic() + 20
    issuer = ""
    while not issuer:
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the OpenID Connect provider did not start:\n{log.read_text()}")
        ready, _w, _x = select.select([process.stdout], [], [], 0.2)
        if ready:
            line = process.stdout.readline()
            if line.startswith("listening on "):
                issuer = line.split()[-1]
    discovery = f"{issuer}/.well-known/openid-configuration"
    while True:
        try:
            with build_opener().open(discovery, timeout=2) as response:
                if response.status == 200:
                    return issuer
        except (URLError, OSError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the provider's discovery did not answer:\n{log.read_text()}")
        time.sleep(0.1)


@pytest.fixture
def franceconnect(settings, oidc_provider):
    """FranceConnect switched on, pointing at the local provider."""
    settings.FRANCECONNECT_ENABLED = True
    settings.FRANCECONNECT_ISSUER = oidc_provider.issuer
    settings.FRANCECONNECT_CLIENT_ID = oidc_provider.client_id
    settings.FRANCECONNECT_CLIENT_SECRET = oidc_provider.client_secret
    return oidc_provider
