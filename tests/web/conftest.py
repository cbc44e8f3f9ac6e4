"""A live conch and Debian's Chromium, driven by Playwright, shared by the browser tests.

One server serves the whole module, started on an empty data folder so that its banner
carries a first key in the studio link, as `make run` prints it. Each test gets its own
browser context (its own storage: signed out) and a folder for its screenshots.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from support.live import SERVER_ENV, LiveConch

CHROMIUM = "/usr/bin/chromium"
# This machine's closed network: without these Chromium floods it with refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LINK = re.compile(r"http://\S+/#key=\S+")


@pytest.fixture(scope="module")
def conch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConch]:
    with LiveConch(tmp_path_factory.mktemp("studio"), SERVER_ENV) as server:
        yield server


@pytest.fixture(scope="module")
def banner_link(conch: LiveConch) -> str:
    """The studio link the first start printed, with its new key."""
    found = LINK.search(conch.log())
    assert found, conch.log()
    return found.group(0)


@pytest.fixture(scope="module")
def key(banner_link: str) -> str:
    return banner_link.split("#key=", 1)[1]


@pytest.fixture(scope="module")
def driver() -> Iterator[Playwright]:
    if shutil.which(CHROMIUM) is None:
        reason = f"{CHROMIUM} is missing; `make test` installs it (make test-deps)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(f"SKIPPED LOUDLY: {reason}")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(driver: Playwright) -> Iterator[Browser]:
    chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    yield context.new_page()
    context.close()


class Shots:
    """Numbered full-page screenshots of a test's steps, in its temporary folder."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.taken: list[Path] = []

    def __call__(self, step: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{step}.png"
        self.page.screenshot(path=path, full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture
def shot(page: Page, tmp_path: Path) -> Shots:
    return Shots(page, tmp_path)
