"""One error handler: HTML pages, or JSON when the client asks for JSON."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

logger = logging.getLogger(__name__)

PAGES = {400, 403, 404, 405, 413, 429, 500}

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to do that.",
    404: "There is nothing at this address.",
    405: "That method is not allowed here.",
    413: "That upload is too large.",
    429: "Too many attempts. Please wait a little and try again.",
    500: "Something went wrong on our side. It has been logged.",
}


class DomainError(Exception):
    """A rule of the service was broken; the message is safe to show the user."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


def wants_json() -> bool:
    """True for API paths and clients that prefer JSON over HTML."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > (request.accept_mimetypes["text/html"])
    )


def render_error(status: int, message: str | None = None):
    message = message or MESSAGES.get(status, "Error")
    if wants_json():
        return jsonify({"status": status, "error": message}), status
    template = f"errors/{status if status in PAGES else 400}.html"
    return render_template(template, status=status, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError):
        return render_error(
            400,
            "This form expired or was not sent from this site. Reload the page and try again.",
        )

    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        return render_error(err.status, err.message)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        code = err.code or 500
        if code == 429:
            message = MESSAGES[429]
        else:
            message = err.description if code not in (404, 500) else None
        response = render_error(code, message)
        if code == 405 and err.get_response().headers.get("Allow"):
            body, status = response
            return body, status, {"Allow": err.get_response().headers["Allow"]}
        return response

    @app.errorhandler(Exception)
    def _unhandled(err: Exception):
        logger.exception("unhandled error on %s %s", request.method, request.path)
        from .db import get_session

        get_session().rollback()
        return render_error(500)
