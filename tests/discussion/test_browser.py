"""The issue's "done when", clicked through in headless Chromium against the real app.

A peer comments, the learner sees the bell, follows the notification and
replies; the learner asks for feedback and her mentor answers from /mentor;
the learner hides a comment and a visitor no longer sees it. Every page is
served under the app's CSP and must log no console error.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests.conftest import TEST_PASSWORD

from .conftest import last_comment

pytestmark = pytest.mark.browser


@pytest.fixture()
def site(world) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, world.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # Notification links are absolute: point them at this server.
    world.app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield world.app.config["BASE_URL"]
    server.shutdown()
    thread.join()


class Person:
    """One browser context (its own cookies), logged in as a user."""

    def __init__(self, browser, site: str, user=None) -> None:
        self.site = site
        self.page = browser.new_context().new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: self._note(m.type, m.text))
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))
        if user is not None:
            self.go("/login")
            self.page.fill("#email", user.email)
            self.page.fill("#password", TEST_PASSWORD)
            self.page.click("main button[type=submit]")
            self.page.wait_for_url(f"{site}/dashboard")

    def _note(self, kind: str, text: str) -> None:
        if kind == "error":
            self.problems.append(text)

    def go(self, path: str) -> None:
        self.page.goto(self.site + path)

    def text(self) -> str:
        return self.page.inner_text("main")


def test_comment_reply_feedback_and_hide_in_the_browser(world, site, browser) -> None:
    pete = Person(browser, site, world.pete)
    pete.go(world.url)
    pete.page.fill("#body-new", "Great start! Have you tried **dropout**?")
    pete.page.click("form.comment-form button[type=submit]")
    pete.page.wait_for_selector("text=Comment posted.")
    first = last_comment(world)
    assert pete.page.inner_html(f"#comment-{first.id} .comment-body").count("<strong>dropout")

    maya = Person(browser, site, world.maya)
    assert maya.page.inner_text(".bell-count") == "1"
    maya.go("/notifications")
    maya.page.click("text=New comment by Pete")
    maya.page.wait_for_selector(f"#comment-{first.id}")
    maya.page.click(f"#comment-{first.id} ~ details.reply-box summary")
    maya.page.fill(f"#body-r{first.id}", "Not yet, thanks @pete!")
    maya.page.click(f"#body-r{first.id} ~ button")
    maya.page.wait_for_selector("text=Comment posted.")
    reply = last_comment(world)
    assert reply.parent_id == first.id
    assert "Not yet, thanks @pete!" in maya.page.inner_text(f"#comment-{reply.id}")

    maya.go(world.url)
    maya.page.fill("#body", "Week 2: is my validation split sound?")
    maya.page.check("#ask_feedback")
    maya.page.click("details.post-update button[type=submit]")
    maya.page.wait_for_selector("text=Your mentors will see it in their queue.")

    mira = Person(browser, site, world.mira)
    mira.go("/mentor")
    assert "Week 2: is my validation split sound?" in mira.text()
    mira.page.click(".feedback-queue summary")
    if shots := os.environ.get("DISCUSSION_SCREENSHOTS"):
        mira.page.screenshot(path=f"{shots}/discussion-queue.png", full_page=True)
    mira.page.fill(".feedback-queue textarea", "Split by writer, not by image.")
    mira.page.click(".feedback-queue button[type=submit]")
    mira.page.wait_for_selector("text=Feedback sent. Thank you!")
    assert "No one is waiting for feedback" in mira.text()
    maya.go("/notifications")
    assert "Mira answered your feedback request" in maya.text()

    maya.go(world.url)
    maya.page.click(f"#comment-{first.id} button:has-text('Hide')")
    maya.page.wait_for_selector("text=Comment hidden.")
    visitor = Person(browser, site)
    visitor.go(world.url)
    assert "Hidden by a moderator." in visitor.text()
    assert "Have you tried" not in visitor.text()
    assert "Not yet, thanks @pete!" in visitor.text()  # the reply stays readable

    for person in (pete, maya, mira, visitor):
        assert person.problems == []
    if shots := os.environ.get("DISCUSSION_SCREENSHOTS"):
        maya.go(world.url)
        maya.page.screenshot(path=f"{shots}/discussion-member.png", full_page=True)
        visitor.page.screenshot(path=f"{shots}/discussion-visitor.png", full_page=True)
        mira.go("/mentor")
        mira.page.screenshot(path=f"{shots}/discussion-mentor.png", full_page=True)
