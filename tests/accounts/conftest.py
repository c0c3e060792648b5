"""Account flows over the real outbox and the loopback SMTP server of tests/notify."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scheduler import jobs
from tests.accounts.deletion_world import world  # noqa: F401  (the account-deletion fixture)
from tests.api.conftest import make_token  # noqa: F401  (fixture re-used here)
from tests.conftest import TEST_PASSWORD, csrf_token
from tests.notify.conftest import (  # noqa: F401  (fixtures re-used here)
    SMTPServer,
    make_smtp_server,
    smtp_app,
    smtp_server,
)

LINK_RE = re.compile(
    r"http://127\.0\.0\.1:5000(/(?:password/reset|email/verify|email/confirm)/\S+)"
)
NEW_PASSWORD = "violet tangerine umbrella quartz"


def deliver(app: Flask, now: datetime | None = None) -> dict[str, int]:
    """Run the scheduler's outbox job once, as the scheduler would."""
    return dict(jobs.deliver_emails(app, now=now))


def link_in(server: SMTPServer, to: str, kind: str) -> str:
    """The path of the newest one-time link of this kind mailed to `to`."""
    for mail in reversed(server.messages):
        if to in mail.rcpt_tos:
            text = mail.message.get_body(("plain",)).get_content()
            for path in LINK_RE.findall(text):
                if path.startswith(f"/{kind}/") or kind in path:
                    return path
    raise AssertionError(f"no {kind} link mailed to {to}")


def post_form(client: FlaskClient, path: str, data: dict[str, str], *, page: str | None = None):
    """POST a form with the CSRF token read from `page` (default: the same path)."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page or path)})


def ask_reset(client: FlaskClient, email: str):
    return post_form(client, "/password/forgot", {"email": email})


@pytest.fixture
def password() -> str:
    return TEST_PASSWORD


def mailed_link(app: Flask, server: SMTPServer, to: str, kind: str) -> str:
    """Send what is queued through the loopback server and return the newest `kind` link."""
    deliver(app)
    return link_in(server, to, kind)
