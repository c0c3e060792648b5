"""One error handler: HTML pages, or JSON when the client asks for JSON."""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
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
    503: "Seasons is briefly unavailable. Please try again in a minute.",
}

# The database did not answer (refused, dropped, pool exhausted): a 503 the visitor
# may retry, never a traceback.
DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeout)


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


def render_unavailable():
    """The 503 answer, built without the database.

    errors/503.html extends no layout and is rendered straight from the Jinja
    environment: render_template would run the context processors, and
    Flask-Login's loads the signed-in user from the database.
    """
    message = MESSAGES[503]
    if wants_json():
        response = jsonify({"status": 503, "error": message})
    else:
        template = current_app.jinja_env.get_template("errors/503.html")
        response = make_response(template.render(message=message))
    response.status_code = 503
    response.headers["Retry-After"] = "30"
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    def _database_down(err: Exception):
        logger.error(
            "database unavailable on %s %s: %s",
            request.method,
            request.path,
            err.__class__.__name__,
            exc_info=err,
        )
        return render_unavailable()

    for exc_class in DATABASE_DOWN:
        app.register_error_handler(exc_class, _database_down)

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
