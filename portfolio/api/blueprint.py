"""The API blueprint: /api/v1, token or session authentication, problem details, rate limit."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from ..extensions import csrf, limiter
from . import auth, errors

PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=PREFIX)

# Token requests are exempt as a whole; auth.before_request puts CSRF back for
# requests that ride on the session cookie (see auth.py).
csrf.exempt(bp)


def _limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


# One budget per caller across the whole API (not per endpoint), keyed by user when
# the caller is known and by address otherwise.
limiter.shared_limit(_limit, scope="api", key_func=auth.rate_limit_key)(bp)

bp.before_request(auth.before_request)
errors.register(bp)


@bp.before_app_request
def _routing_errors() -> Response | None:
    """Answer unknown paths and methods under /api/v1 with problem details too.

    A routing failure is raised before Flask knows the blueprint, so the
    blueprint's error handlers would never see it; the app-wide hooks do run
    first, and this one answers for the API's prefix only.
    """
    exc = request.routing_exception
    if exc is None or isinstance(exc, RequestRedirect) or not isinstance(exc, HTTPException):
        return None
    if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
        return errors.routing_problem(exc)
    return None
