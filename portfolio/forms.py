"""Helpers shared by every blueprint's forms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import Field

from .errors import DomainError

T = TypeVar("T")


def apply_error(form: FlaskForm, err: DomainError, *, keep_field_errors: bool = False) -> None:
    """Attach a service error (or each of several) to its field, or to the form as a whole.

    With `keep_field_errors`, a field that already shows an error from the
    form's own validators keeps only that one, so a person is not told twice.
    """
    for one in getattr(err, "errors", None) or [err]:
        field = getattr(form, one.field, None) if one.field else None
        if field is not None and hasattr(field, "errors"):
            if keep_field_errors and field.errors:
                continue
            field.errors = [*field.errors, one.message]
        else:
            form.form_errors.append(one.message)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What a form's service call came to: its value, or the error that refused it.

    True when the call went through, so ``if commit_or_show(...)`` reads as
    before; views that need the service's answer (the new project, the token's
    secret) take ``.value``, and views that report a refusal their own way
    (a flash, a 404, a link page) take ``.error``.
    """

    value: T | None = None
    error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.error is None


def commit_or_show(
    session,
    form: FlaskForm | None,
    action: Callable[[], T],
    *,
    commit: Callable[[T], object] | None = None,
    keep_field_errors: bool = False,
) -> Outcome[T]:
    """Run a service call for a valid form; commit it, or roll back and show its error.

    The commit-boundary rule in one place: the view commits once, and a
    domain error leaves nothing written and a message on the form. With
    ``form=None`` the view shows the error itself (``Outcome.error``). ``commit``
    replaces the plain ``session.commit()`` when committing has to do more,
    such as deleting a just-stored file if the commit fails.
    """
    try:
        value = action()
    except DomainError as err:
        session.rollback()
        if form is not None:
            apply_error(form, err, keep_field_errors=keep_field_errors)
        return Outcome(error=err)
    if commit is None:
        session.commit()
    else:
        commit(value)
    return Outcome(value=value)


def safe_next(target: str | None, default: str) -> str:
    """Allow only same-site relative paths as a post-login redirect.

    Refused: absolute URLs, scheme-relative "//host", "/\\host" (browsers read a
    backslash as a slash), any "scheme:" such as javascript:, control
    characters and whitespace (browsers strip some of them before parsing).
    """
    if not target or len(target) > 2000:
        return default
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target) or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


class Form(FlaskForm):
    """The base of every form here: its hidden CSRF field renders without an id.

    A page often holds several forms (a log-out button, one per milestone...),
    each with a CSRF field of the same name; HTML wants ids unique per page,
    and nothing ever labels or targets a hidden input, so it needs none.
    Other fields that repeat on a page take a form `prefix` instead.
    """

    class Meta:
        def render_field(self, field: Field, render_kw: dict[str, Any]) -> Markup:
            """Render a field with the page-wide fixes; WTForms calls this for every field."""
            if field.type == "CSRFTokenField":
                # False, not None: WTForms writes None out as id="None".
                render_kw = {**render_kw, "id": False}
            elif field.type == "SelectField" and _first_choice_has_value(field):
                # A required select must start with an empty placeholder option;
                # one whose every option is a real value always has an answer.
                render_kw = {"required": False, **render_kw}
            return super().render_field(field, render_kw)


def _first_choice_has_value(field: Field) -> bool:
    """True when a select's first option is a real value (no empty placeholder)."""
    first = next(iter(field.iter_choices()), None)
    return first is not None and first[0] not in ("", None)


class ActionForm(Form):
    """A form with no fields: a CSRF-protected button (log out, mark read...)."""
