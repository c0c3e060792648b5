"""Browser tests: the real app on 127.0.0.1, driven by Playwright in Debian's Chromium.

Playwright's own browser download does not work on these machines, so the
suite points it at /usr/bin/chromium (installed by scripts/system-deps.sh).
Screenshots of key pages are saved under test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

# The loopback SMTP server of the email tests, for flows that send mail.
from tests.notify.conftest import make_smtp_server, smtp_server  # noqa: F401

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture()
def live_server(app) -> Iterator[str]:
    """Serve the test app on a free loopback port in a background thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app.config["BASE_URL"]
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: scripts/system-deps.sh should have installed it")
        pytest.skip("Chromium is not installed (run scripts/system-deps.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def shot(page, name: str, element=None) -> Path:
    """Save a screenshot as a test artifact: the full page, or clipped to `element`
    (a Playwright locator, scrolled into view first)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if element is not None:
        element.scroll_into_view_if_needed()
        element.screenshot(path=str(path))
    else:
        page.screenshot(path=str(path), full_page=True)
    return path
