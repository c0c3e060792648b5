"""Helpers shared by every blueprint's forms."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask_wtf import FlaskForm

from .errors import DomainError


def apply_error(form: FlaskForm, err: DomainError) -> None:
    """Attach a service error to the matching field, or to the form as a whole."""
    field = getattr(form, err.field, None) if err.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, err.message]
    else:
        form.form_errors.append(err.message)


def commit_or_show(session, form: FlaskForm, action: Callable[[], object]) -> bool:
    """Run a service call for a valid form; commit it, or roll back and show its error.

    The boundary rule of STYLE.md §3 in one place: the view commits once, and a
    domain error leaves nothing written and a message on the form.
    """
    try:
        action()
    except DomainError as err:
        session.rollback()
        apply_error(form, err)
        return False
    session.commit()
    return True


def safe_next(target: str | None, default: str) -> str:
    """Allow only same-site relative paths as a post-login redirect."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


class ActionForm(FlaskForm):
    """A form with no fields: a CSRF-protected button (log out, mark read...)."""
