"""Forgotten password and email change in a real browser, with mail through loopback SMTP."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from portfolio.models import User, UserSession
from scheduler import jobs
from tests.conftest import TEST_PASSWORD
from tests.notify.conftest import SMTPServer

from .conftest import shot

pytestmark = pytest.mark.browser

NEW_PASSWORD = "violet tangerine umbrella quartz"


def _mailed_link(app, server: SMTPServer, to: str) -> str:
    """Run the outbox job once and return the link in the newest email to `to`."""
    jobs.deliver_emails(app)
    for mail in reversed(server.messages):
        if to in mail.rcpt_tos:
            text = mail.message.get_body(("plain",)).get_content()
            match = re.search(re.escape(app.config["BASE_URL"]) + r"/\S+/[\w-]{40,}", text)
            if match:
                return match.group(0)
    raise AssertionError(f"no link mailed to {to}")


@pytest.fixture
def mail_app(app, smtp_server, live_server):
    app.config.update(
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=smtp_server.port,
        SMTP_SECURITY="none",
        SMTP_TIMEOUT=5.0,
        MAIL_FROM="Seasons <noreply@seasons.example.com>",
    )
    return app


def test_forgotten_password_then_email_change(
    mail_app, live_server, browser, smtp_server, session, make_user
):
    """Reset by emailed link signs out the older browser; an email change waits for its link."""
    base = live_server
    ada = make_user("ada")
    older = browser.new_context().new_page()
    older.goto(base + "/login")
    older.fill("#email", ada.email)
    older.fill("#password", TEST_PASSWORD)
    older.click("main button[type=submit]")
    older.wait_for_url(base + "/dashboard")

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    page.goto(base + "/login")
    page.click("text=Forgot your password?")
    page.fill("#email", "ada@example.com")
    page.click("main button[type=submit]")
    assert "Check your email" in page.locator("h1").inner_text()
    link = _mailed_link(mail_app, smtp_server, "ada@example.com")
    page.goto(link)
    shot(page, "password-reset")
    page.fill("#new", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/dashboard")
    assert "Your password is changed" in page.content()

    older.goto(base + "/settings/profile")
    assert "/login" in older.url  # the older session was signed out
    assert len(session.exec(select(UserSession)).all()) == 1

    page.goto(base + "/settings/email")
    page.fill("#new_email", "ada.new@example.com")
    page.fill("#password", NEW_PASSWORD)
    page.click("main form:not(.inline-form) button[type=submit]")
    assert "We sent a confirmation link" in page.content()
    session.expire_all()
    assert session.get(User, ada.id).email == "ada@example.com"
    link = _mailed_link(mail_app, smtp_server, "ada.new@example.com")
    notice = [m for m in smtp_server.messages if m.rcpt_tos == ["ada@example.com"]]
    assert len(notice) == 2  # the reset link, then the notice of the change
    page.goto(link)
    page.click("text=Use this address")
    assert "Your email address is changed" in page.content()
    shot(page, "email-changed")
    session.expire_all()
    assert session.get(User, ada.id).email == "ada.new@example.com"
