"""Structured logging to stderr: one JSON object (or key=value line) per record."""

from __future__ import annotations

import logging
import sys
import time

from flask import Flask, g, request
from pythonjsonlogger.json import JsonFormatter


def json_formatter() -> logging.Formatter:
    """One JSON object per record; gunicorn.conf.py uses it for gunicorn's own log too."""
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )


def configure_logging(level: str, fmt: str) -> None:
    """Send every log record to stderr in the chosen format, once per process."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(json_formatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_seasons", False)]:
        root.removeHandler(old)
    handler._seasons = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())


def init_request_logging(app: Flask) -> None:
    """Log one line per request with method, path, status and duration."""
    logger = logging.getLogger("seasons.request")

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        started = g.pop("request_started", None)
        # Checked before the fields are gathered: a quieter LOG_LEVEL costs nothing here.
        if started is None or request.endpoint == "static" or not logger.isEnabledFor(logging.INFO):
            return response
        logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response
