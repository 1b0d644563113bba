"""Browser-test fixtures shared by every module that drives Chromium (registered once in
tests/content/conftest.py: Playwright's sync API allows one running instance per process).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from affea.localdev import CHROMIUM, CHROMIUM_FLAGS, SeaweedS3, configure_bucket_cors

OUTPUT = Path(os.environ.get("AFFEA_BROWSER_OUTPUT") or settings.BASE_DIR / "var" / "browser-tests")
AXE = settings.BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
PHONE, DESKTOP = {"width": 375, "height": 812}, {"width": 1440, "height": 900}
CUE = "Hello from the harbour"
WAIT_MS = 15_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the whole session."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread, and Django refuses ORM
    # calls while one runs; the tests need both (rows, jobs, outbox), one after the other.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
        )
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def bucket_cors(live_server, seaweed: SeaweedS3) -> None:
    # hls.js fetches media with XHR and captions are cross-origin: the bucket must allow
    # this exact origin (port included).
    configure_bucket_cors(
        seaweed.client(), settings.AWS_STORAGE_BUCKET_NAME, [*seaweed.cors_origins, live_server.url]
    )


@pytest.fixture
def page(browser, request: pytest.FixtureRequest, bucket_cors: None) -> Iterator[Any]:
    """A fresh context and page; on failure, a screenshot and the console in OUTPUT."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(WAIT_MS)
    tab = context.new_page()
    console: list[str] = []
    tab.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    tab.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    failed_before = request.session.testsfailed
    yield tab
    if request.session.testsfailed > failed_before:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"\W+", "-", request.node.name)
        for number, open_page in enumerate(context.pages):
            open_page.screenshot(path=str(OUTPUT / f"FAILED-{name}-{number}.png"), full_page=True)
        (OUTPUT / f"FAILED-{name}-console.txt").write_text("\n".join(console))
        print(f"browser console of {name}:\n" + "\n".join(console))
    # Leave the page while the server still answers: the player's last progress save (a
    # keepalive request on pagehide) must finish before the test database is emptied, or
    # that write and the TRUNCATE deadlock.
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        with tab.expect_request_finished(lambda r: "/progress/" in r.url, timeout=3000):
            tab.goto("about:blank")
    except PlaywrightTimeout:
        pass  # nothing was playing: nothing left to save
    context.close()
