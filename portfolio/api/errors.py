"""Problem details (RFC 9457, ``application/problem+json``) for every API error.

Every failure under /api/v1 — a broken rule in a service, a malformed body, a
missing token, an unknown URL, a rate limit, a bug — leaves as the same JSON
shape, so a script needs one error path. Validation problems list each field.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pydantic
from flask import Blueprint, Response, current_app, json, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

from ..db import get_session
from ..errors import DATABASE_DOWN, DomainError

logger = logging.getLogger(__name__)

PROBLEM_MIME = "application/problem+json"
REALM = 'Bearer realm="Seasons"'

DEFAULT_DETAIL = {
    400: "The request could not be understood.",
    401: "Send a token: Authorization: Bearer <token> (create one in Settings → API tokens).",
    403: "You may not do that.",
    404: "There is nothing at this address.",
    405: "That method is not allowed here.",
    409: "That conflicts with the current state.",
    413: "The request body is too large.",
    415: "Send the body as JSON with Content-Type: application/json.",
    422: "Some fields are not valid.",
    429: "Too many requests. Wait a little and try again.",
    500: "Something went wrong on our side. It has been logged.",
    503: "The service is briefly unavailable. Retry after the Retry-After seconds.",
}


class Problem(Exception):
    """Raise in API code to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or DEFAULT_DETAIL.get(status, "Error"))
        self.status = status
        self.detail = detail or DEFAULT_DETAIL.get(status, "Error")
        self.errors = errors
        self.headers = dict(headers or {})


def field_error(field: str, message: str, location: str = "body") -> dict[str, str]:
    return {"field": field, "location": location, "message": message}


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Build the response; ``title`` is the status phrase, as RFC 9457 asks for about:blank."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail or DEFAULT_DETAIL.get(status, "Error"),
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_MIME)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401 and "WWW-Authenticate" not in response.headers:
        response.headers["WWW-Authenticate"] = REALM
    return response


def pydantic_errors(exc: pydantic.ValidationError, location: str) -> list[dict[str, str]]:
    """One entry per failing field, dotted paths ("team.2"), without echoing the input."""
    return [
        field_error(".".join(str(part) for part in err["loc"]) or "(body)", err["msg"], location)
        for err in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


def _http(err: HTTPException) -> Response:
    code = err.code or 500
    if code >= 500:
        return _unhandled(err)
    headers: dict[str, str] = {}
    if isinstance(err, MethodNotAllowed) and err.valid_methods:
        headers["Allow"] = ", ".join(sorted(err.valid_methods))
    for name, value in err.get_headers():
        if name.lower() == "retry-after":
            headers["Retry-After"] = value
    detail = None if code in (404, 405, 429) else _plain(err.description)
    return problem_response(code, detail, headers=headers)


def _plain(description: str | None) -> str | None:
    """Werkzeug's stock descriptions are written for HTML pages; keep ours only."""
    if not description or description.startswith(("The browser (or proxy)", "The server")):
        return None
    return description


def _domain(err: DomainError) -> Response:
    errors = [field_error(err.field, err.message)] if err.field else None
    headers = {"WWW-Authenticate": f'{REALM}, error="invalid_token"'} if err.status == 401 else {}
    return problem_response(err.status, err.message, errors=errors, headers=headers)


def _problem(err: Problem) -> Response:
    return problem_response(err.status, err.detail, errors=err.errors, headers=err.headers)


def _csrf(err: CSRFError) -> Response:
    return problem_response(
        403,
        "Requests signed in with the session cookie need the X-CSRFToken header; "
        "scripts should send Authorization: Bearer <token> instead.",
    )


def _unhandled(err: BaseException) -> Response:
    logger.exception("unhandled API error on %s %s", request.method, request.path, exc_info=err)
    get_session().rollback()
    return problem_response(500)


def _unavailable(err: Exception) -> Response:
    logger.error("database unavailable on API %s %s", request.method, request.path, exc_info=err)
    response = problem_response(503, headers={"Retry-After": "30"})
    response.headers["Cache-Control"] = "no-store"
    return response


def register(bp: Blueprint) -> None:
    """Attach the handlers to the API blueprint (they win over the app's HTML ones)."""
    bp.register_error_handler(CSRFError, _csrf)
    bp.register_error_handler(Problem, _problem)
    bp.register_error_handler(DomainError, _domain)
    bp.register_error_handler(HTTPException, _http)
    for exc_class in DATABASE_DOWN:
        bp.register_error_handler(exc_class, _unavailable)
    bp.register_error_handler(Exception, _unhandled)


def routing_problem(exc: HTTPException) -> Response:
    """An unknown path or method under the API prefix, answered before dispatch."""
    return _http(exc)
