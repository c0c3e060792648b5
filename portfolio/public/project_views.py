"""The public project page and what it embeds: charts, OG image, uploaded figures.

Anonymous views of public and unlisted projects are cached per project
version (bumped by any edit, sync, update or comment) and the hour, with an
ETag, so a warm page costs one small query and no chart rendering.
"""

from __future__ import annotations

import hashlib
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
from ..errors import NotFound
from ..extensions import cache
from ..markdown import pygments_css
from ..models import User, utcnow
from ..projects import access, images
from ..projects import service as projects
from ..projects.loading import load_project
from ..seasons import health, milestones
from ..seasons.forms import CompleteForm, MilestoneForm
from . import service
from .figures import og_png
from .views import bp


def _etag(project, extra: str = "") -> str:
    hour = utcnow().strftime("%Y%m%d%H")
    raw = f"{project.id}:{project.version}:{hour}:{extra}"
    return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:20]


def _cached(project, kind: str, build) -> Response:
    """Serve anonymous requests from the cache with an ETag; others fresh."""
    if current_user.is_authenticated:
        return build()
    etag = _etag(project, kind)
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        key = f"page:{kind}:{etag}"
        cached = cache.get(key)
        if cached is not None:
            # Bytes and a mimetype, not a pickled Response: cheap to load from any cache.
            response = Response(cached[1], mimetype=cached[0])
        else:
            response = build()
            if response.status_code == 200:
                cache.set(key, (response.mimetype, response.get_data()), timeout=3600)
    response.set_etag(etag)
    response.last_modified = project.updated_at
    # Browsers and proxies revalidate every time (a cheap 304 with the ETag), so a
    # new comment or sync shows on the very next request, not a minute later.
    response.cache_control.public = True
    response.cache_control.no_cache = True
    return response


@bp.get("/u/<handle>/<slug>")
def project(handle: str, slug: str):
    session, proj, season = load_project(handle, slug)

    def build() -> Response:
        now = utcnow()
        state, stats = health.health_of(session, [proj.id], now)[proj.id]
        res = service.results(session, proj)
        can_edit = access.can_edit(session, proj, current_user)
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
            health=state,
            stats=stats,
            results=res,
            show_all_config=request.args.get("config") == "all",
            can_edit=can_edit,
            milestone_form=MilestoneForm(formdata=None),
            complete_form=CompleteForm(formdata=None),
            bundle=bundle_filename(),
            now=now,
        )
        return Response(html, mimetype="text/html")

    if request.args:
        return build()
    return _cached(proj, "html", build)


@bp.get("/u/<handle>/<slug>/charts/<int:index>.vl.json")
def chart_spec(handle: str, slug: str, index: int):
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
    session, proj, _ = load_project(handle, slug)

    def build() -> Response:
        figures = service.results(session, proj).figures
        figure = next((f for f in figures if f.index == index), None)
        if figure is None or figure.svg is None:
            abort(404)
        return Response(figure.svg, mimetype="image/svg+xml")

    return _cached(proj, f"svg{index}", build)


@bp.get("/u/<handle>/<slug>/og.png")
def og_image(handle: str, slug: str):
    """The Open Graph preview: the headline chart with the project's title."""
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
    response = send_from_directory(
        images.upload_dir(), stored.filename, mimetype=stored.content_type
    )
    response.headers["Content-Disposition"] = "inline"
    response.cache_control.max_age = 86400
    return response


@bp.get("/assets/code.css")
def code_css():
    """Pygments colours for highlighted code in write-ups (light and dark)."""
    response = Response(pygments_css(), mimetype="text/css")
    response.cache_control.max_age = 86400
    return response


@bp.get("/assets/<name>")
def bundle(name: str):
    """The vega-embed bundle from vl-convert, written once into the instance folder."""
    if name != bundle_filename():
        abort(404)
    folder = Path(current_app.instance_path) / "assets"
    if not (folder / name).exists():
        write_bundle(folder / name)
    response = send_from_directory(folder, name, mimetype="text/javascript")
    response.cache_control.max_age = 365 * 86400
    response.cache_control.immutable = True
    return response
