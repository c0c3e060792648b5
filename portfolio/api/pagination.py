"""Opaque cursors: "after this offset" for short lists, "before this id" for feeds.

Clients only pass ``next_cursor`` back, so each list may use whichever form
suits it: a notification feed pages by id (stable while new ones arrive),
a user's handful of projects by offset.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from typing import TypeVar

from .errors import Problem, field_error

T = TypeVar("T")
_CURSOR_RE = re.compile(r"^([ob]):(\d{1,10})$")


def encode(kind: str, value: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def decode(cursor: str | None, kind: str) -> int | None:
    """The number inside a cursor of this kind; 422 for anything else."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raw = ""
    match = _CURSOR_RE.match(raw)
    if match is None or match.group(1) != kind or int(match.group(2)) > 2**31 - 1:
        raise Problem(
            422,
            errors=[field_error("cursor", "Pass back the next_cursor of a page.", "query")],
        )
    return int(match.group(2))


def offset_page(
    items: Sequence[T], *, cursor: str | None, limit: int
) -> tuple[list[T], str | None]:
    """Slice a short, fully loaded list."""
    start = decode(cursor, "o") or 0
    page = list(items[start : start + limit])
    more = start + limit < len(items)
    return page, encode("o", start + limit) if more else None
