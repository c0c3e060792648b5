"""Accounts: sign-up, log-in, roles."""

from __future__ import annotations

from flask import Flask

from ..db import get_session
from ..extensions import login_manager
from . import service


def init_app(app: Flask) -> None:
    @login_manager.user_loader
    def _load_user(session_id: str):
        return service.load_session_user(get_session(), session_id)
