"""Cached anonymous responses of a project's public page and what it embeds.

A response is cached under an ETag built from the project's id, its version
(bumped by every edit, sync, update or comment) and the hour, so a change
shows on the very next request in every worker without any invalidation:
the old entries are simply never asked for again and expire. Each entry keeps
its gzipped bytes too, compressed once when built; clients that accept gzip
get those (ETag suffixed "-gz"), others the plain bytes.

The warm path reads the project's stamp (id, version, visibility, updated
time) by URL with one prepared Core query on a pooled connection, with no ORM
session and no access checks beyond visibility. That read happens on every
request, deliberately: a stamp cached in a worker could not be invalidated in
the other workers, and a project switched to draft must stop being served at
once. Anything but the plain case (a draft, an old slug, a team member's
handle, no such project) yields no stamp, and the view takes the full path
with the permission rules and redirects of ``load_project``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Response, request
from sqlalchemy import bindparam, select

from ..compression import compress, send_variant
from ..db import get_engine
from ..extensions import cache
from ..httpcache import visitor_cache_control
from ..models import Project, User, Visibility, utcnow

# Drafts are never served from the cache: they go through the access checks.
CACHEABLE = frozenset({Visibility.public.value, Visibility.unlisted.value})
TIMEOUT = 3600

_projects = Project.__table__  # type: ignore[attr-defined]
_users = User.__table__  # type: ignore[attr-defined]

# Built once: constructing the expression costs more than running it.
_STAMP_BY_URL = (
    select(_projects.c.id, _projects.c.version, _projects.c.visibility, _projects.c.updated_at)
    .select_from(_projects.join(_users, _users.c.id == _projects.c.owner_id))
    .where(_users.c.handle == bindparam("handle"), _projects.c.slug == bindparam("slug"))
)


@dataclass(frozen=True, slots=True)
class PageStamp:
    """What the cache key and the validators of a project's page depend on."""

    project_id: int
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, project: Project) -> PageStamp:
        assert project.id is not None
        return cls(project.id, project.version, project.updated_at)


def public_stamp(handle: str, slug: str) -> PageStamp | None:
    """The stamp of the public or unlisted project at this current URL, else None."""
    with get_engine().connect() as conn:
        row = conn.execute(_STAMP_BY_URL, {"handle": handle.strip().lower(), "slug": slug}).first()
    if row is None or row.visibility not in CACHEABLE:
        return None
    return PageStamp(row.id, row.version, row.updated_at)


def etag(stamp: PageStamp, kind: str) -> str:
    hour = utcnow().strftime("%Y%m%d%H")
    raw = f"{stamp.project_id}:{stamp.version}:{hour}:{kind}"
    return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:20]


def cached(stamp: PageStamp, kind: str) -> Response | None:
    """A 304 or the cached bytes for an anonymous request; None on a cache miss."""
    return _from_cache(stamp, kind, etag(stamp, kind))


def serve(stamp: PageStamp, kind: str, build: Callable[[], Response]) -> Response:
    """Serve an anonymous request from the cache; on a miss, build and cache a 200."""
    tag = etag(stamp, kind)
    response = _from_cache(stamp, kind, tag)
    if response is None:
        response = build()
        packed = None
        if response.status_code == 200:
            # Compressed once here, so every later hit only picks a variant.
            packed = compress(response.get_data())
            entry = (response.mimetype, response.get_data(), packed)
            cache.set(_key(kind, tag), entry, timeout=TIMEOUT)
        _add_validators(response, stamp, tag)
        send_variant(response, packed)
    return response


def _key(kind: str, tag: str) -> str:
    return f"page:{kind}:{tag}"


def _from_cache(stamp: PageStamp, kind: str, tag: str) -> Response | None:
    if request.if_none_match.contains(tag) or request.if_none_match.contains(tag + "-gz"):
        response = Response(status=304)
        _add_validators(response, stamp, tag)
        if request.if_none_match.contains(tag + "-gz"):
            response.set_etag(tag + "-gz")
        response.vary.add("Accept-Encoding")
        return response
    hit = cache.get(_key(kind, tag))
    if hit is None or len(hit) != 3:  # absent, or an entry of an older release
        return None
    # Bytes and a mimetype, not a pickled Response: cheap to load from any cache.
    response = Response(hit[1], mimetype=hit[0])
    _add_validators(response, stamp, tag)
    return send_variant(response, hit[2])


def _add_validators(response: Response, stamp: PageStamp, tag: str) -> None:
    response.set_etag(tag)
    response.last_modified = stamp.updated_at
    # Browsers revalidate every time (a cheap 304 with the ETag), so a new comment or
    # sync shows on their next request; a proxy in front may keep the page for a few
    # seconds (httpcache.SHARED_SECONDS). Set as a string: the cache_control object
    # parses and rewrites it per change.
    response.headers["Cache-Control"] = visitor_cache_control()
