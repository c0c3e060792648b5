"""Jinja filters and globals shared by all templates."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import Flask
from flask_login import current_user

from .forms import ActionForm
from .models import utcnow
from .numbers import format_value
from .timeutil import format_local, iso_instant, relative


def safe_url(value: str | None) -> str:
    """Only http(s) links from untrusted sources (W&B) become hrefs."""
    value = (value or "").strip()
    return value if urlsplit(value).scheme in ("http", "https") else "#"


def blank_action_form() -> ActionForm:
    """A CSRF-only form for rendering buttons; it never reads the request body.

    Reading it would re-raise 413 while the "upload too large" page renders.
    """
    return ActionForm(formdata=None)


def viewer_timezone() -> str:
    """The signed-in user's zone; visitors see UTC."""
    return current_user.timezone if current_user.is_authenticated else "UTC"


def init_app(app: Flask) -> None:
    @app.template_filter("localtime")
    def _localtime(instant: datetime | None, fmt: str | None = None) -> str:
        if fmt:
            return format_local(instant, viewer_timezone(), fmt)
        return format_local(instant, viewer_timezone())

    @app.template_filter("relative")
    def _relative(instant: datetime | None) -> str:
        return relative(instant, utcnow())

    app.add_template_filter(iso_instant, "iso")
    app.add_template_filter(format_value, "metric")
    app.add_template_filter(safe_url, "safe_url")

    @app.context_processor
    def _globals() -> dict:
        return {"action_form": blank_action_form, "viewer_timezone": viewer_timezone}
