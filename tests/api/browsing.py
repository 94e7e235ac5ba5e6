"""What the browser tests share: headless Chromium (Debian's `chromium`, driven by
Playwright, one browser per test module), a signed-in page that keeps its script errors, and
where screenshots go. A browser
test module imports `browser`; the `chromium` it comes from is in tests/api/conftest.py."""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.builders import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
BROWSER_TESTS = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists() and shutil.which("chromium") is None,
        reason="no Chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
"""`pytestmark` of a browser test module."""


@pytest.fixture(scope="module")
def chromium() -> Iterator["sync_api.Browser"]:
    """A headless Chromium, launched once per test module."""
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
            args=ARGS,
            headless=True,
        )
        yield launched
        launched.close()


@pytest.fixture
def browser(chromium: "sync_api.Browser") -> Iterator["sync_api.Browser"]:
    """The module's Chromium for the test: every page and context the test opens starts
    without cookies or storage, and is closed after the test."""
    yield chromium
    for context in chromium.contexts:
        context.close()


def sign_in(page: "sync_api.Page", base: str, login: str) -> None:
    """Sign in on the login page as `login` (every test user has the same password)."""
    page.goto(f"{base}/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def signed_in(
    opener: "sync_api.Browser | sync_api.BrowserContext", base: str, login: str, **options: Any
) -> tuple["sync_api.Page", list[str]]:
    """A new page (`options`: as for `new_page`) signed in as `login`, and the list that
    collects its JavaScript errors."""
    page = opener.new_page(**options)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, base, login)
    return page, errors


def screenshot(page: "sync_api.Page", name: str) -> None:
    """Save a screenshot of the page as var/screenshots/<name>.png (for people to look at)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def wait_until(page: "sync_api.Page", expression: str, timeout_s: float = 5.0) -> None:
    """Wait until a JavaScript expression is true (polled with `evaluate`: the pages' CSP
    forbids the `eval` that Playwright's `wait_for_function` uses)."""
    for _ in range(int(timeout_s / 0.1)):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"still not true after {timeout_s} s: {expression}")
