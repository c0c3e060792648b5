"""Validation rules for account fields, shared by forms, API and CLI."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from zxcvbn import zxcvbn

from ..errors import DomainError, Forbidden

HANDLE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,28})[a-z0-9]$")
# Path segments and words that would be confusing or unsafe as a public handle.
RESERVED_HANDLES = frozenset(
    [
        "about",
        "account",
        "accounts",
        "admin",
        "administrator",
        "api",
        "app",
        "assets",
        "auth",
        "calendar",
        "dashboard",
        "demo",
        "docs",
        "export",
        "feed",
        "feeds",
        "help",
        "healthz",
        "home",
        "login",
        "logout",
        "mentor",
        "mentors",
        "new",
        "notifications",
        "null",
        "portfolio",
        "privacy",
        "projects",
        "readyz",
        "register",
        "root",
        "robots",
        "season",
        "seasons",
        "security",
        "settings",
        "signin",
        "signout",
        "signup",
        "sitemap",
        "static",
        "support",
        "system",
        "terms",
        "u",
        "undefined",
        "user",
        "users",
        "www",
    ]
)
PASSWORD_MIN = 10
PASSWORD_MAX = 128
# zxcvbn refuses longer input; the first 72 characters decide strength.
_ZXCVBN_MAX = 72
MIN_STRENGTH = 2


class ValidationError(DomainError):
    status = 422


class ValidationErrors(ValidationError):
    """Several fields are wrong at once; `errors` holds one error per problem."""

    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__(errors[0].message, field=errors[0].field)
        self.errors = errors


class ErrorCollector:
    """Run field checks one after another and keep every failure, not only the first."""

    def __init__(self) -> None:
        self.errors: list[DomainError] = []

    def check(self, func, *args, **kwargs):
        """Return func(...)'s value, or None after recording its DomainError."""
        try:
            return func(*args, **kwargs)
        except DomainError as err:
            self.errors.append(err)
            return None

    def raise_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise ValidationErrors(self.errors)


def normalize_email(value: str) -> str:
    """Return the address lower-cased, or raise with a readable reason."""
    value = (value or "").strip()
    if len(value) > 254:
        raise ValidationError("That email address is too long.", field="email")
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(f"That email address is not valid: {exc}", field="email") from exc
    return result.normalized.lower()


def check_handle(value: str) -> str:
    """Return the handle if it is allowed."""
    value = (value or "").strip()
    if not 3 <= len(value) <= 30:
        raise ValidationError("A handle is 3 to 30 characters long.", field="handle")
    if not HANDLE_RE.match(value) or "--" in value:
        raise ValidationError(
            "Use lowercase letters, digits and single dashes, starting and ending with a "
            "letter or digit.",
            field="handle",
        )
    if value in RESERVED_HANDLES:
        raise ValidationError("That handle is reserved. Please pick another.", field="handle")
    return value


@lru_cache(maxsize=1)
def timezone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(value: str) -> str:
    value = (value or "").strip()
    if value not in timezone_names():
        raise ValidationError(
            "Unknown time zone. Use an IANA name such as Europe/Berlin or America/New_York.",
            field="timezone",
        )
    return value


def check_password(password: str, *, user_inputs: list[str]) -> None:
    """Refuse short, over-long and easily guessed passwords."""
    if len(password) < PASSWORD_MIN:
        raise ValidationError(
            f"Use at least {PASSWORD_MIN} characters for your password.", field="password"
        )
    if len(password) > PASSWORD_MAX:
        raise ValidationError(f"Passwords are at most {PASSWORD_MAX} characters.", field="password")
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=[i for i in user_inputs if i])
    if result["score"] < MIN_STRENGTH:
        hint = result["feedback"].get("warning") or "It would be easy to guess."
        raise ValidationError(
            f"That password is too weak. {hint} Try a few uncommon words together.",
            field="password",
        )


def check_length(value: str, *, field: str, label: str, max_len: int, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(f"{label} is required.", field=field)
    # PostgreSQL text cannot hold NUL, and no form has a use for one.
    if "\x00" in value:
        raise ValidationError(f"{label} contains a character we cannot store.", field=field)
    if len(value) > max_len:
        raise ValidationError(f"{label} is at most {max_len} characters.", field=field)
    return value


def check_http_url(value: str, *, field: str, label: str, example: str) -> str:
    """Accept only an http(s) URL with a host: such links are rendered on public pages.

    Refused too: spaces and control characters (browsers drop some of them, so
    the link would not go where it reads) and a "user@" part, which makes
    https://github.com@example.org look like a GitHub link.
    """
    value = (value or "").strip()
    if not value:
        return ""
    error = ValidationError(f"{label} must be an http(s) URL, e.g. {example}.", field=field)
    if len(value) > 300 or any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in value):
        raise error
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError as exc:
        raise error from exc
    if parts.scheme.lower() not in ("http", "https") or not host or "@" in parts.netloc:
        raise error
    return value


def require_verified(user, action: str) -> None:
    """With REQUIRE_VERIFIED_EMAIL on, refuse posting and publishing to unconfirmed addresses."""
    if current_app.config.get("REQUIRE_VERIFIED_EMAIL") and user.email_verified_at is None:
        raise Forbidden(
            f"Confirm your email address before you {action}: follow the link we emailed "
            "you, or ask for a new one under Settings → Email."
        )
