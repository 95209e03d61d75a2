"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Screenshots taken along the way stay in memory and are written to
test-artifacts/e2e/<test name>/ (or $E2E_ARTIFACTS_DIR/<test name>/) only when the test
fails, with one more of the page the browser was on at that moment.
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Debian's Chromium, never a browser downloaded by `playwright install`. The flags keep
# it from phoning home (updates, sync, QUIC), which would slow it down in CI, and let it
# run as root in a container (no sandbox, no GPU).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"

CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Remember on the item whether its body failed: fixtures learn it at teardown."""
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture
def page(transactional_db, live_server, monkeypatch) -> Iterator[Page]:
    """A fresh Chromium tab whose relative URLs go to the live server.

    Function-scoped on purpose: while Playwright runs, its event loop is the running
    loop of the test thread, and a browser kept for the session would make every later
    test's ORM calls fail (see below).
    """
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium. "
            "Install it with `apt-get install chromium` (CI does); never `playwright install`.",
            pytrace=False,
        )
    # Playwright's sync API runs an asyncio event loop in the test's thread, so Django
    # takes the test's own ORM calls (building data, checking the database afterwards)
    # for calls made from async code and raises SynchronousOnlyOperation. Nothing here
    # is async: the live server answers the browser from its own thread. Scoped to the
    # browser tests by monkeypatch rather than set for the whole session.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(base_url=live_server.url)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
            # With an event loop running, asgiref keeps Django's connections apart from
            # the thread's usual ones, so the test's ORM calls opened a connection of
            # their own. Close it while it is still reachable: left open, it would keep
            # PostgreSQL from dropping the test database at the end of the run.
            connections.close_all()


class Screenshots:
    """Screenshots of the pages a test passes, kept in memory until it fails."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.taken: dict[str, bytes] = {}

    def take(self, name: str) -> None:
        self.taken[name] = self.page.screenshot(full_page=True)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, png in self.taken.items():
            (folder / f"{_file_name(name)}.png").write_bytes(png)
        try:
            (folder / "current-page.png").write_bytes(self.page.screenshot(full_page=True))
        except Exception as error:  # a crashed page must not hide the test's own failure
            (folder / "current-page.txt").write_text(f"No screenshot: {error}\n")


def _file_name(name: str) -> str:
    return re.sub(r"[^\w.-]+", "-", name).strip("-")


@pytest.fixture
def screenshots(request, page: Page) -> Iterator[Screenshots]:
    shots = Screenshots(page)
    yield shots
    if request.node.stash.get(CALL_FAILED, False):
        root = Path(os.environ.get("E2E_ARTIFACTS_DIR") or ARTIFACTS_DIR)
        folder = root / _file_name(request.node.name)
        shots.save(folder)
        print(f"\nScreenshots of the failed browser test: {folder}")
