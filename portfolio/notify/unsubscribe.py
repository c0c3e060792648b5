"""Signed one-click unsubscribe links (RFC 8058) for one category of email.

The token carries the user id and category and is signed with SECRET_KEY,
so the link works without logging in and cannot be forged for someone else.
It does not expire: an unsubscribe link in a months-old email must work.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

SALT = "seasons.unsubscribe.v1"


@dataclass(frozen=True, slots=True)
class Subscription:
    user_id: int
    category: str


def _serializer() -> URLSafeSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"])


@lru_cache(maxsize=4)
def _serializer_for(secret: str) -> URLSafeSerializer:
    # Deriving the signing key is most of the cost of a token; do it once per secret.
    return URLSafeSerializer(secret, salt=SALT)


def make_token(user_id: int, category: str) -> str:
    """Sign (user id, category); the same pair always gives the same token."""
    return _token(current_app.config["SECRET_KEY"], user_id, category)


@lru_cache(maxsize=65_536)
def _token(secret: str, user_id: int, category: str) -> str:
    # Cached: a sweep signs one token per reminder, mostly for the same people.
    return _serializer_for(secret).dumps([user_id, category])


def read_token(token: str) -> Subscription | None:
    """Return what a token unsubscribes from, or None when it is forged or garbled."""
    try:
        data = _serializer().loads(token)
    except BadData:
        return None
    if (
        not isinstance(data, list)
        or len(data) != 2
        or not isinstance(data[0], int)
        or not isinstance(data[1], str)
    ):
        return None
    return Subscription(user_id=data[0], category=data[1])


def url(user_id: int, category: str) -> str:
    """The absolute one-click unsubscribe URL (the route lives in notify.views)."""
    return f"{current_app.config['BASE_URL']}/unsubscribe/{make_token(user_id, category)}"
