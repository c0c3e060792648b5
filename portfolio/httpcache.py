"""Headers that let a shared cache (nginx) keep anonymous public pages for a few seconds.

A reverse proxy in front of gunicorn may keep a page for at most SHARED_SECONDS
(`s-maxage`), so a draft switch or an edit shows within that time; browsers
revalidate every time (`max-age=0`, with the page's ETag where it has one).
Only responses that any visitor could get are marked: no session or remember
cookie, nobody signed in, status 200. Such a response must never carry a
Set-Cookie (a shared cache would hand one visitor's session to the next), so the
session interface below checks every response as it is finished.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, current_app, make_response, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from werkzeug.wrappers import Response

logger = logging.getLogger(__name__)

# How long nginx (or any shared cache) may serve a page without asking the app.
SHARED_SECONDS = 5
PUBLIC = f"public, max-age=0, s-maxage={SHARED_SECONDS}"
PRIVATE = "private, no-cache"


def anonymous_request() -> bool:
    """True when nothing in the request ties it to a person: its answer suits anyone."""
    config = current_app.config
    for name in (
        config["SESSION_COOKIE_NAME"],
        config.get("REMEMBER_COOKIE_NAME", "remember_token"),
    ):
        if name in request.cookies:
            return False
    return "Authorization" not in request.headers and not current_user.is_authenticated


def visitor_cache_control() -> str:
    """PUBLIC for an anonymous request, PRIVATE for anyone with a session."""
    return PUBLIC if anonymous_request() else PRIVATE


def shared_cacheable(view: Callable[..., Any]) -> Callable[..., Response]:
    """Mark the view's anonymous 200 answers as cacheable by a shared cache for a few seconds."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = visitor_cache_control()
        return response

    return wrapper


def _shared(response: Response) -> bool:
    cc = response.cache_control
    return bool(cc.public or cc.s_maxage is not None)


class GuardedSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions that never let a shared-cacheable response set a cookie.

    Runs after every after_request hook (Flask saves the session last), so it also
    sees Flask-Login's remember cookie. A hit is a bug at its source (a form built
    for an anonymous page, say): it is logged, and the response made private.
    """

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        super().save_session(app, session, response)
        if "Set-Cookie" in response.headers and _shared(response):
            logger.warning(
                "a shared-cacheable response set a cookie; sent as private instead",
                extra={"path": request.path},
            )
            response.headers["Cache-Control"] = PRIVATE


def init_app(app: Flask) -> None:
    app.session_interface = GuardedSessionInterface()
