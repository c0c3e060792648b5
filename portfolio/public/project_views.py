"""The public project page and what it embeds: charts, OG image, uploaded figures.

Anonymous views of public and unlisted projects are cached per project
version (bumped by any edit, sync, update or comment) and the hour, with an
ETag (see page_cache). A warm request costs one small Core query and a cache
read: no ORM session, no project loading and no chart rendering.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache as cache_for_process
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
)
from flask_login import current_user

from ..charts import bundle_filename, write_bundle
from ..compression import accepts_gzip, compress, send_variant
from ..discovery import tags
from ..errors import NotFound
from ..extensions import cache, limiter
from ..markdown import pygments_css
from ..models import Project, ProjectImage, User, utcnow
from ..projects import access, images, publishing
from ..projects import service as projects
from ..projects.loading import load_project
from ..seasons import health, milestones, public_record, recaps
from ..seasons.forms import CompleteForm, MilestoneForm, RefreezeForm
from ..storage import StorageNotFound
from . import page_cache, progress, service
from .cards import site_card_png
from .figures import og_png
from .views import bp

# Endpoints whose anonymous answers come from the page cache. None has a rate
# limit, so the limiter's per-request work (resolving which limits apply, about
# as costly as the cache read) is skipped for them, as it is for static files.
# Adding a limit to one of these views means taking it out of this set.
CACHED_ENDPOINTS = frozenset(
    {
        "public.project",
        "public.chart_spec",
        "public.chart_svg",
        "public.chart_svg_narrow",
        "public.og_image",
        "public.recap_image",  # seasons/recap_views.py
    }
)


@limiter.request_filter
def _no_limits_apply() -> bool:
    return request.endpoint in CACHED_ENDPOINTS


def _warm(handle: str, slug: str, kind: str) -> Response | None:
    """The cached response for an anonymous visitor, before anything is loaded.

    None sends the view down the full path: a cache miss, a logged-in user,
    or a URL the plain lookup does not serve (drafts, old slugs, 404s).
    """
    if current_user.is_authenticated:
        return None
    stamp = page_cache.public_stamp(handle, slug)
    return page_cache.cached(stamp, kind) if stamp is not None else None


def _cached(project: Project, kind: str, build: Callable[[], Response]) -> Response:
    """Serve anonymous requests from the cache with an ETag; others fresh."""
    if current_user.is_authenticated:
        return build()
    return page_cache.serve(page_cache.PageStamp.of(project), kind, build)


@bp.get("/u/<handle>/<slug>")
def project(handle: str, slug: str):
    if not request.args and (warm := _warm(handle, slug, "html")) is not None:
        return warm
    session, proj, season = load_project(handle, slug)

    def build() -> Response:
        now = utcnow()
        state, stats = health.health_of(session, [proj.id], now)[proj.id]
        res = service.results(session, proj)
        editor = access.can_edit(session, proj, current_user)
        # "View public page": an editor sees the page as a visitor does.
        as_visitor = editor and request.args.get("view") == "visitor"
        can_edit = editor and not as_visitor
        viewer = None if as_visitor else current_user
        checkpoints = progress.timeline(session, proj)
        owner_edits = can_edit and proj.owner_id == current_user.id
        recap_section, recap_edit_link = recaps.page_section(session, proj, season, viewer, now)
        html = render_template(
            "public/project.html",
            project=proj,
            season=season,
            owner=session.get(User, proj.owner_id),
            members=projects.members_of(session, proj.id),
            problem=(
                service.render_markdown(proj.problem_md, id_prefix="problem-")
                if proj.problem_md
                else None
            ),
            write_up=service.write_up(proj),
            milestones=milestones.list_for(session, proj.id),
            checkpoints=checkpoints,
            tags=tags.project_tags(session, proj.id),
            progress_chart=progress.chart_svg(checkpoints),
            health=state,
            stats=stats,
            show_health=public_record.shows_health(session, proj, viewer),
            as_visitor=as_visitor,
            publish_checklist=publishing.checklists(session, [proj])[proj.id] if can_edit else None,
            results=res,
            show_all_config=request.args.get("config") == "all",
            can_edit=can_edit,
            # Forms only for editors: building one puts a CSRF token in the session,
            # and an anonymous page must not set a cookie (it is cached and shared).
            milestone_form=MilestoneForm(formdata=None) if can_edit else None,
            complete_form=CompleteForm(formdata=None) if can_edit else None,
            refreeze_form=RefreezeForm(formdata=None) if owner_edits else None,
            bundle=bundle_filename(),
            now=now,
            recap_section=recap_section,
            recap_edit_link=recap_edit_link,
        )
        return Response(html, mimetype="text/html")

    if request.args:
        return build()
    return _cached(proj, "html", build)


@bp.get("/u/<handle>/<slug>/charts/<int:index>.vl.json")
def chart_spec(handle: str, slug: str, index: int):
    if (warm := _warm(handle, slug, f"spec{index}")) is not None:
        return warm
    session, proj, _ = load_project(handle, slug)

    def build() -> Response:
        figures = service.results(session, proj).figures
        figure = next((f for f in figures if f.index == index), None)
        if figure is None:
            abort(404)
        return jsonify(figure.spec)

    return _cached(proj, f"spec{index}", build)


@bp.get("/u/<handle>/<slug>/charts/<int:index>.svg")
def chart_svg(handle: str, slug: str, index: int):
    return _chart_svg(handle, slug, index, narrow=False)


@bp.get("/u/<handle>/<slug>/charts/<int:index>.narrow.svg")
def chart_svg_narrow(handle: str, slug: str, index: int):
    """The chart laid out for a phone: full width, fewer ticks, larger text."""
    return _chart_svg(handle, slug, index, narrow=True)


def _chart_svg(handle: str, slug: str, index: int, *, narrow: bool) -> Response:
    kind = f"svg{'n' if narrow else ''}{index}"
    if (warm := _warm(handle, slug, kind)) is not None:
        return warm
    session, proj, _ = load_project(handle, slug)

    def build() -> Response:
        figures = service.results(session, proj).figures
        figure = next((f for f in figures if f.index == index), None)
        svg = None if figure is None else (figure.svg_narrow if narrow else figure.svg)
        if svg is None:
            abort(404)
        return Response(svg, mimetype="image/svg+xml")

    return _cached(proj, kind, build)


@bp.get("/u/<handle>/<slug>/og.png")
def og_image(handle: str, slug: str):
    """The Open Graph preview: the headline chart with the project's title."""
    if (warm := _warm(handle, slug, "og")) is not None:
        return warm
    session, proj, _ = load_project(handle, slug)

    def build() -> Response:
        key = f"og:{proj.id}:{proj.version}"
        png = cache.get(key)
        if png is None:
            png = og_png(session, proj, service.visible_runs(session, proj.id))
            if png is None:
                abort(404)
            cache.set(key, png)
        return Response(png, mimetype="image/png")

    return _cached(proj, "og", build)


@bp.get("/u/<handle>/<slug>/images/<filename>")
def image(handle: str, slug: str, filename: str):
    session, proj, _ = load_project(handle, slug)
    try:
        stored = images.get_image(session, proj, filename)
    except NotFound:
        abort(404)
    # Each upload gets a new random name and is never rewritten, so the name is a
    # strong validator: a revalidation is answered without a trip to the store.
    if request.if_none_match.contains(stored.filename):
        return _figure_headers(Response(status=304), stored)
    try:
        data = images.read_image(session, stored).data
    except StorageNotFound:
        abort(404)
    response = _figure_headers(Response(data, mimetype=stored.content_type), stored)
    return response.make_conditional(request, accept_ranges=True, complete_length=len(data))


def _figure_headers(response: Response, stored: ProjectImage) -> Response:
    """The headers send_file gave when figures were files: revalidate (drafts are
    private) with ETag and Last-Modified, and a day's max-age."""
    response.headers["Content-Disposition"] = "inline"
    response.cache_control.no_cache = True
    response.cache_control.max_age = 86400
    response.set_etag(stored.filename)
    response.last_modified = stored.created_at
    return response


@bp.get("/card.png")
def site_card():
    """The social-card image of pages without a chart of their own."""
    png, etag = site_card_png()
    response = Response(png, mimetype="image/png")
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response.make_conditional(request)


@cache_for_process
def _code_css() -> tuple[bytes, bytes | None]:
    data = pygments_css().encode("utf-8")
    return data, compress(data)


@bp.get("/assets/code.css")
def code_css():
    """Pygments colours for highlighted code in write-ups (light and dark), gzipped once."""
    data, packed = _code_css()
    response = Response(data, mimetype="text/css")
    response.cache_control.max_age = 86400
    return send_variant(response, packed)


@bp.get("/assets/<name>")
def bundle(name: str):
    """The vega-embed bundle from vl-convert, written once (with its .gz) into the instance folder.

    The name carries the library versions, so it is cached for a year as immutable.
    """
    if name != bundle_filename():
        abort(404)
    folder = Path(current_app.instance_path) / "assets"
    if not (folder / name).exists() or not (folder / f"{name}.gz").exists():
        write_bundle(folder / name)
    gzipped = accepts_gzip()
    response = send_from_directory(
        folder, f"{name}.gz" if gzipped else name, mimetype="text/javascript"
    )
    response.vary.add("Accept-Encoding")
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.cache_control.max_age = 365 * 86400
    response.cache_control.immutable = True
    response.cache_control.public = True
    return response
