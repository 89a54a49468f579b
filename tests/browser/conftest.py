"""The web console in a real browser: Debian's Chromium driven by Playwright, against the session's
local stack (which serves the built console at its root). Screenshots of each page, at 1280x800,
go to test-output/screenshots/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devstack.stack import CONSOLE_DIST, ROOT

CHROMIUM = os.environ.get("BULKIMPORT_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-output" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
# No network but loopback, no first-run work, nothing the machine lacks (a GPU, a sandbox as root).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    assert (CONSOLE_DIST / "index.html").is_file(), "the console is not built: make console"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_page(browser, stack, locale: str = "en-US"):
    context = browser.new_context(viewport=VIEWPORT, locale=locale, accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list = []  # script errors, and answers of 500 and up (read when a test reports them)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda response: response.status >= 500 and errors.append(response))
    page.goto(stack.console_url)
    return page, errors


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def sign_in(page, key: str) -> None:
    page.locator("input[name=api-key]").fill(key)
    page.locator("input[name=api-key]").press("Enter")  # the keyboard signs in


def problems(errors: list) -> list[str]:
    """What went wrong in the page: its script errors, and each 5xx answer with its body."""
    return [item if isinstance(item, str) else f"{item.status} {item.url}: {item.text()[:2000]}" for item in errors]
