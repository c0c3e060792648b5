"""GET /seasons: public, like the seasons page."""

from __future__ import annotations

from ...db import get_session
from ...models import utcnow
from ...seasons import service as seasons
from .. import schemas
from ..pagination import offset_page
from ..routing import operation


@operation(
    "GET",
    "/seasons",
    summary="List seasons",
    tag="seasons",
    scope=None,
    response=schemas.SeasonPage,
    query=schemas.PageQuery,
)
def list_seasons(query: schemas.PageQuery) -> schemas.SeasonPage:
    """Every season, newest first. No token needed; the current and next quarter always exist."""
    session = get_session()
    today = utcnow().date()
    seasons.ensure_current_and_next(session, today)
    session.commit()
    items, next_cursor = offset_page(
        seasons.list_seasons(session), cursor=query.cursor, limit=query.limit
    )
    return schemas.SeasonPage(
        items=[
            schemas.SeasonOut(
                slug=s.slug,
                title=s.title,
                kind=str(s.kind),
                starts_on=s.starts_on,
                ends_on=s.ends_on,
                current=s.starts_on <= today <= s.ends_on,
            )
            for s in items
        ],
        next_cursor=next_cursor,
    )
