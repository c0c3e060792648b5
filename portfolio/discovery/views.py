"""Public search, tag pages, and the tags form of a project's edit page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import login_required

from ..db import get_session
from ..errors import DomainError
from ..forms import commit_or_show
from ..projects.loading import load_project, project_url
from . import engine, query, tags
from .forms import TagsForm

bp = Blueprint("discovery", __name__)


@bp.get("/search")
def search():
    raw = request.args.get("q", "")
    error = None
    results = None
    parsed = None
    try:
        page = query.parse_page(request.args.get("page"))
        parsed = query.parse(raw)
    except DomainError as err:
        error = err.message
    else:
        if parsed is not None:
            results = engine.search(get_session(), parsed, page)
    shown = raw if len(raw) <= query.MAX_QUERY_CHARS else raw[: query.MAX_QUERY_CHARS]
    status = 400 if error else 200
    return render_template(
        "discovery/search.html", q=shown, error=error, results=results, parsed=parsed
    ), status


@bp.get("/tags/<slug>")
def tag(slug: str):
    session = get_session()
    try:
        page = query.parse_page(request.args.get("page"))
    except DomainError as err:
        return render_template("discovery/tag.html", slug=slug, error=err.message), 400
    label, ids, total = tags.tagged_projects(session, slug, page=page, per_page=engine.PER_PAGE)
    hits = engine.hits_for(session, ids, [])
    results = engine.Page(hits=hits, total=total, page=page)
    status = 200 if label or page == 1 else 404
    return render_template(
        "discovery/tag.html", slug=slug, label=label, results=results, error=None
    ), status


def tags_form(session, project) -> TagsForm:
    """The edit page's tags form, filled with the project's tags."""
    form = TagsForm(prefix="tags")
    if not form.is_submitted():
        form.tags.data = ", ".join(t.label for t in tags.project_tags(session, project.id))
    return form


@bp.route("/u/<handle>/<slug>/tags", methods=["POST"])
@login_required
def project_tags(handle: str, slug: str):
    session, project, _season = load_project(handle, slug, edit=True)
    form = TagsForm(prefix="tags")
    if form.validate_on_submit() and commit_or_show(
        session, form, lambda: tags.set_tags(session, project, tags.parse(form.tags.data))
    ):
        flash("Tags saved.", "success")
        return redirect(project_url(project, "projects.edit"))
    from ..projects.views import edit_page

    return edit_page(session, project, tag_form=form, status=422)
