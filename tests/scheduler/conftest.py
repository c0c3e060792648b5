"""Scheduler tests send through the same loopback SMTP server as the notify tests."""

from tests.notify.conftest import make_smtp_server, smtp_server  # noqa: F401
