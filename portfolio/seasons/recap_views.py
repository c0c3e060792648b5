"""Season recap routes: the learner's editor and the public recap image.

The editor sits on the projects blueprint (``projects.recap_edit``) beside the
milestone routes; the image on the public blueprint (``public.recap_image``) beside
``og.png``, cached the same way (per project version, with an ETag).
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request
from flask_login import current_user, login_required
from wtforms import TextAreaField
from wtforms.validators import Length

from ..extensions import cache
from ..forms import Form, commit_or_show
from ..models import User, utcnow
from ..projects import access
from ..projects.loading import load_project, project_url
from ..projects.views import bp as projects_bp
from ..public import page_cache, progress
from ..public.views import bp as public_bp
from . import recaps
from .recap_card import recap_png

ACTIONS = {"publish", "draft", "unpublish"}
_DONE = {
    "publish": "Your recap is public.",
    "unpublish": "Your recap is a draft again.",
    "draft": "Recap saved as a draft.",
}
_KEPT = "Recap saved; it stays public."


class RecapForm(Form):
    body = TextAreaField(
        "Recap text",
        validators=[Length(max=recaps.MAX_BODY)],
        description="Markdown. Leave the generated text as it is to let it follow your figures.",
    )


@projects_bp.route("/u/<handle>/<slug>/recap/edit", methods=["GET", "POST"])
@login_required
def recap_edit(handle: str, slug: str):
    """Edit, publish, keep as draft or unpublish the recap: members only (others 403)."""
    session, project, season = load_project(handle, slug)
    if not access.is_member(session, project, current_user):
        abort(403)
    now = utcnow()
    recap = recaps.get(session, project.id)
    public_figures = recaps.recap_figures(session, project, False)
    generated = recaps.default_text(project, season, public_figures)
    form = RecapForm(data={"body": (recap.body_md if recap and recap.body_md else generated)})
    if request.method == "POST":
        action = request.form.get("action", "")
        if action not in ACTIONS:
            abort(400, "Choose Publish, Keep as draft or Unpublish.")
        body = form.body.data or ""

        def act() -> object:
            if action == "publish":
                return recaps.publish(session, project, season, current_user, body, now=now)
            if action == "unpublish":
                return recaps.unpublish(session, project, now=now)
            return recaps.save_text(session, project, season, current_user, body, now=now)

        if form.validate_on_submit() and commit_or_show(session, form, act):
            saved = recaps.get(session, project.id)
            flash(
                _DONE[action] if action != "draft" or not saved.published_at else _KEPT, "success"
            )
            return redirect(project_url(project, "projects.recap_edit"))
    status = 422 if form.errors or form.form_errors else 200
    checkpoints = progress.timeline(session, project)
    figures = recaps.recap_figures(session, project, True)
    recap = recaps.get(session, project.id)
    return render_template(
        "seasons/recap_edit.html",
        form=form,
        project=project,
        season=season,
        owner=session.get(User, project.owner_id),
        recap=recap,
        published=recaps.is_public(project, recap),
        available=recaps.is_available(session, project, season, now),
        figures=figures,
        progress_chart=progress.chart_svg(checkpoints),
        preview=recaps.body_html(project, season, recap, public_figures),
    ), status


@public_bp.get("/u/<handle>/<slug>/recap.png")
def recap_image(handle: str, slug: str):
    """The recap's Open Graph image; 404 unless published and the project is visible."""
    if not current_user.is_authenticated:
        stamp = page_cache.public_stamp(handle, slug)
        if stamp is not None and (warm := page_cache.cached(stamp, "recap")) is not None:
            return warm
    session, project, season = load_project(handle, slug)

    def build() -> Response:
        if not recaps.is_public(project, recaps.get(session, project.id)):
            abort(404)
        key = f"recap:{project.id}:{project.version}"
        png = cache.get(key)
        if png is None:
            owner = session.get(User, project.owner_id)
            figures = recaps.recap_figures(session, project, False)
            png = recap_png(project, season, owner, figures)
            cache.set(key, png)
        return Response(png, mimetype="image/png")

    if not current_user.is_authenticated:
        return page_cache.serve(page_cache.PageStamp.of(project), "recap", build)
    response = build()
    response.set_etag(f"recap-{project.id}-{project.version}")
    return response.make_conditional(request)
