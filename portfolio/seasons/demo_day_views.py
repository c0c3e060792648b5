"""Demo-day routes: admin pins and the Atom feed on seasons.bp, a member's highlight on projects.bp.

The page itself is the season page (views.show), which switches layout once the
season has ended.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import InputRequired

from ..db import get_session
from ..errors import DomainError
from ..forms import ActionForm, Form, commit_or_show
from ..models import Project, utcnow
from ..models.showcase import HIGHLIGHT_MAX
from ..projects.loading import load_project, project_url
from ..projects.views import bp as projects_bp
from ..public.feed import etag_of
from . import demo_day, service
from .views import bp


class PinForm(Form):
    project_id = IntegerField("Project", validators=[InputRequired()])


class ShowcaseForm(Form):
    """A member's choice: feature the project at demo day, with a one-line highlight."""

    featured = BooleanField("Feature this project at demo day")
    highlight = StringField(
        "Highlight (one line, shown on the demo-day card)",
        description=f"Plain text, at most {HIGHLIGHT_MAX} characters, e.g. "
        "“Cut MAPE from 4.3 % to 3.1 %”.",
        render_kw={"maxlength": HIGHLIGHT_MAX},
    )


def showcase_form(session, project: Project) -> ShowcaseForm | None:
    """The edit page's demo-day form for members, filled in; None for anyone else."""
    from ..projects import access

    if not access.is_member(session, project, current_user):
        return None
    form = ShowcaseForm(prefix="showcase")
    if not form.is_submitted():
        entry = demo_day.entry_of(session, project.id)
        form.featured.data = bool(entry and entry.featured_at)
        form.highlight.data = entry.highlight if entry else ""
    return form


def _refused(err: DomainError):
    """A refused pin: the message on a small page, with the error's own 4xx status."""
    status = err.status if 400 <= err.status < 500 else 422
    return render_template("projects/form_error.html", messages=[err.message]), status


def _pin_action(slug: str, project_id: int | None, *, add: bool):
    session = get_session()
    season = service.require(session, slug)
    if not current_user.is_admin:
        abort(403)
    form = PinForm() if add else ActionForm()
    if not form.validate_on_submit():
        abort(400)
    change = demo_day.pin if add else demo_day.unpin
    target = form.project_id.data if add else project_id
    done = commit_or_show(
        session, None, lambda: change(session, season, target, current_user, utcnow())
    )
    if done.error is not None:
        return _refused(done.error)
    flash("Pinned." if add else "Unpinned.", "success")
    return redirect(url_for("seasons.show", slug=season.slug), 303)


@bp.post("/seasons/<slug>/pins")
@login_required
def pin(slug: str):
    """Pin a public project of the season to the top of its demo day (admins)."""
    return _pin_action(slug, None, add=True)


@bp.post("/seasons/<slug>/pins/<int:project_id>/delete")
@login_required
def unpin(slug: str, project_id: int):
    return _pin_action(slug, project_id, add=False)


@bp.get("/seasons/<slug>/feed.xml")
def feed(slug: str):
    """Atom feed of the season's public projects; conditional requests get a bodiless 304."""
    session = get_session()
    season = service.require(session, slug)
    data = demo_day.demo_day(session, season)
    body = render_template(
        "seasons/feed.atom", demo=data, updated=data.updated or season.created_at
    )
    response = Response(body, mimetype="application/atom+xml")
    response.set_etag(etag_of(body))
    response.last_modified = data.updated or season.created_at
    response.cache_control.public = True
    response.cache_control.no_cache = True
    return response.make_conditional(request)


@projects_bp.post("/u/<handle>/<slug>/showcase")
@login_required
def showcase(handle: str, slug: str):
    """Save a member's demo-day feature and highlight; errors re-show the edit page (422)."""
    session, project, _season = load_project(handle, slug, edit=True)
    form = showcase_form(session, project)
    if form is None:
        abort(403)
    if form.validate_on_submit() and commit_or_show(
        session,
        form,
        lambda: demo_day.set_feature(
            session,
            project,
            current_user,
            featured=form.featured.data,
            highlight=form.highlight.data,
            now=utcnow(),
        ),
    ):
        flash("Demo-day highlight saved.", "success")
        return redirect(project_url(project, "projects.edit"), 303)
    from ..projects.views import edit_page

    return edit_page(session, project, showcase=form, status=422)
