"""Browser tests: the real app on 127.0.0.1, driven by Playwright in Debian's Chromium.

The Chromium they drive is the session-wide `browser` fixture of tests/conftest.py.
Screenshots of key pages are saved under test-artifacts/screenshots/.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

# The loopback SMTP server of the email tests, for flows that send mail.
from tests.notify.conftest import make_smtp_server, smtp_server  # noqa: F401

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


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
