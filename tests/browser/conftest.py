"""Browser tests: Debian's Chromium driven by Playwright, against the live test server."""

import os
import shutil

import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = (
        os.environ.get("GRC_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not path:
        pytest.fail(
            "Chromium is needed for the browser tests: install Debian's 'chromium' "
            "package (make test does it when run as root) or set GRC_CHROMIUM."
        )
    return path


@pytest.fixture
def page(live_server, monkeypatch):
    """A fresh Chromium tab on the live server. Playwright lives for one test only: its event
    loop must not outlive the test (asyncio.run() in later tests), nor its setting below."""
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        context = browser.new_context(base_url=live_server.url, locale="fr-FR")
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        # Assertions wait as long as actions do: two browser tests at once on two cores are
        # slow, not wrong.
        expect.set_options(timeout=10_000)
        yield tab
        context.close()
        browser.close()


SERIOUS = {"serious", "critical"}


@pytest.fixture
def assert_accessible():
    """axe-core on the page as it stands: no serious or critical violation (RGAA / WCAG AA)."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(tab, *, where: str = ""):
        results = axe.run(tab)
        violations = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
        details = "\n".join(
            f"- {v['id']} ({v['impact']}): {v['help']} — "
            + ", ".join(n["target"][0] for n in v["nodes"][:3])
            for v in violations
        )
        assert not violations, f"{where or tab.url}:\n{details}"

    return check


DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 360, "height": 740}


@pytest.fixture
def assert_accessible_both(assert_accessible):
    """axe-core at desktop width and at 360 px (the phone), leaving the desktop size."""

    def check(tab, *, where: str = ""):
        for size in (MOBILE, DESKTOP):
            tab.set_viewport_size(size)
            assert_accessible(tab, where=f"{where or tab.url} at {size['width']} px")

    return check
