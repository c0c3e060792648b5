"""Markdown of updates and comments to HTML, cached across requests and workers."""

from __future__ import annotations

import hashlib

from markupsafe import Markup

from ..extensions import cache
from ..markdown import render_markdown


def _key(kind: str, id_: int, text: str) -> str:
    # The text's hash, not its edit time, is the version: an id that SQLite
    # reuses after a cascade delete can then never pick up another body's HTML.
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    return f"md:{kind}{id_}:{digest}"


def rendered(docs: list[tuple[str, int, str]]) -> dict[tuple[str, int], Markup]:
    """Sanitized HTML of many (kind, id, markdown) documents, e.g. ("c", 42, "Nice!").

    HTML is cached in the shared cache, so after a new comment a page rebuild
    renders one comment, not all thirty (one round trip for the lot). The
    prefix "c42-" or "u7-" keeps each document's footnote ids apart.
    """
    keys = {(kind, id_): _key(kind, id_, text) for kind, id_, text in docs}
    found = dict(zip(keys.values(), cache.get_many(*keys.values()), strict=True)) if keys else {}
    out, fresh = {}, {}
    for kind, id_, text in docs:
        key = keys[(kind, id_)]
        html = found.get(key)
        if html is None:
            html = fresh[key] = str(render_markdown(text, id_prefix=f"{kind}{id_}-"))
        out[(kind, id_)] = Markup(html)
    if fresh:
        cache.set_many(fresh)
    return out
