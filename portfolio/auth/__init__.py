"""Accounts: sign-up, log-in, roles, sessions and email links."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_login import current_user

from ..db import get_session
from ..extensions import login_manager
from ..models import utcnow
from . import sessions


def init_app(app: Flask) -> None:
    @login_manager.user_loader
    def _load_user(stored_id: str):
        return sessions.load(get_session(), stored_id, now=utcnow())

    @app.before_request
    def _load_user_first() -> None:
        """Load a signed-in user before the view runs, so the session touch never waits.

        Requests without a session or remember cookie (anonymous visitors, the
        cached public pages) are left alone: nothing is read and nothing written.
        """
        if request.endpoint == "static":
            return
        cookies = request.cookies
        config = current_app.config
        if (
            config["SESSION_COOKIE_NAME"] in cookies
            or config.get("REMEMBER_COOKIE_NAME", "remember_token") in cookies
        ):
            current_user._get_current_object()
