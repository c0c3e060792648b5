"""Scheduler tests send through the same loopback SMTP server as the notify tests.

`proc_env` is the environment of a real `python -m scheduler` process.
"""

import os
import secrets

import pytest

from tests.notify.conftest import make_smtp_server, smtp_server  # noqa: F401


@pytest.fixture
def proc_env(database_url, smtp_server, tmp_path):  # noqa: F811
    """The environment of a scheduler process: our database, our SMTP server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "MAIL_"))}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_hex(32),
        CREDENTIALS_KEY=secrets.token_hex(32),
        INSTANCE_PATH=str(tmp_path / "instance"),
        LOG_FORMAT="text",
        LOG_LEVEL="WARNING",
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=str(smtp_server.port),
        SMTP_SECURITY="none",
        MAIL_FROM="Seasons <noreply@seasons.example.com>",
        SCHEDULER_IN_WEB="0",
    )
    return env
