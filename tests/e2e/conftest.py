"""End-to-end tests run in their own pytest session, without the Home Assistant plugin."""

from __future__ import annotations

from collections.abc import Generator
import os
from pathlib import Path
from typing import Final

from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright
import pytest

HERE: Final = Path(__file__).resolve().parent
CHROMIUM: Final = "/usr/bin/chromium"
# Headless, no sandbox (containers), and nothing that talks to the internet.
CHROMIUM_ARGS: Final = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT: Final = ViewportSize(width=1280, height=900)
# Generous: a loaded 2-core machine renders Home Assistant's frontend slowly.
BROWSER_TIMEOUT_MS: Final = 45_000
expect.set_options(timeout=BROWSER_TIMEOUT_MS)
REPORTS: Final = pytest.StashKey[dict[str, pytest.TestReport]]()
HOW: Final = (
    "end-to-end tests need their own pytest session without the Home Assistant "
    "plugin: run scripts/test, or "
    ".venv/bin/pytest -p no:homeassistant --confcutdir=tests/e2e tests/e2e"
)


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Skip these tests, saying how to run them, in a session with the HA plugin."""
    if not config.pluginmanager.has_plugin("homeassistant"):
        return
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.skip(reason=HOW))


@pytest.fixture(scope="session")
def browser() -> Generator[Browser]:
    """Launch Debian's headless chromium, failing clearly when it is not installed."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup --browser to install it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test, for fixtures to see how it went."""
    report = yield
    item.stash.setdefault(REPORTS, {})[call.when] = report
    return report


@pytest.fixture
def page(
    browser: Browser, request: pytest.FixtureRequest, screenshots: Path
) -> Generator[Page]:
    """Open a fresh browser page (its own empty profile) with a desktop-sized window."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    reports = request.node.stash.get(REPORTS, {})
    if "call" in reports and reports["call"].failed:
        opened.screenshot(path=screenshots / f"FAILED-{request.node.name}.png")
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Return the folder the screenshots of every step go to, for review."""
    folder = Path(os.environ.get("E2E_SCREENSHOTS", HERE / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
