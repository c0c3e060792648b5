"""Planning, viewing and editing projects (milestone routes: seasons/milestone_views.py)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..db import get_session
from ..forms import ActionForm, commit_or_show
from ..models import Project, utcnow
from ..seasons import milestones
from ..seasons import service as seasons
from . import service
from .forms import ProjectEditForm, ProjectForm
from .loading import load_project, project_url

bp = Blueprint("projects", __name__)


def _load(handle: str, slug: str, *, edit: bool = False):
    return load_project(handle, slug, edit=edit)


@bp.route("/projects/new", methods=["GET", "POST"])
@login_required
def new():
    session = get_session()
    now = utcnow()
    current, upcoming = seasons.ensure_current_and_next(session, now.date())
    session.commit()
    season = seasons.get_by_slug(session, request.args.get("season", "")) or current
    form = ProjectForm()
    if form.validate_on_submit():
        done = commit_or_show(
            session,
            form,
            lambda: service.create(
                session,
                owner=current_user,
                season=season,
                fields=service.ProjectFields(
                    form.title.data, form.summary.data, form.problem_md.data, form.repo_url.data
                ),
                team_handles=service.parse_handles(form.team.data),
                allow_second=form.allow_second.data,
                now=now,
            ),
        )
        if done:
            project = done.value
            message = "Your project is planned. Here is your milestone plan."
            if milestones.plan_due_dates(season, current_user.timezone, now)[1]:
                days = (season.ends_on - now.date()).days + 1
                message = (
                    f"Your project is planned. You joined with {days} days left, so your "
                    "milestones are spread over them: nothing starts missed."
                )
            flash(message, "success")
            return redirect(project_url(project))
    existing = service.projects_in_season(session, current_user.id, season.id)
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "projects/new.html",
        form=form,
        season=season,
        choices=[current, upcoming],
        existing=existing,
    ), status


@bp.route("/u/<handle>/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(handle: str, slug: str):
    session, project, _season = _load(handle, slug, edit=True)
    form = ProjectEditForm(obj=project)
    if form.validate_on_submit() and commit_or_show(
        session,
        form,
        lambda: service.update(
            session,
            project,
            fields=service.ProjectFields(
                form.title.data, form.summary.data, form.problem_md.data, form.repo_url.data
            ),
            slug=form.slug.data,
            visibility=form.visibility.data,
            actor=current_user,
            now=utcnow(),
        ),
    ):
        flash("Project saved.", "success")
        return redirect(project_url(project))
    return edit_page(session, project, form=form)


def edit_page(
    session,
    project: Project,
    *,
    form=None,
    tag_form=None,
    showcase=None,
    status: int | None = None,
):
    """The edit page with its three forms; a failed sub-form passes itself in to keep its errors."""
    from ..discovery.views import tags_form
    from ..seasons.demo_day_views import showcase_form

    form = form if form is not None else ProjectEditForm(obj=project, formdata=None)
    if status is None:
        status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "projects/edit.html",
        form=form,
        project=project,
        tag_form=tag_form if tag_form is not None else tags_form(session, project),
        tag_action=project_url(project, "discovery.project_tags"),
        showcase_form=showcase if showcase is not None else showcase_form(session, project),
        showcase_action=project_url(project, "projects.showcase"),
    ), status


@bp.post("/u/<handle>/<slug>/carry")
@login_required
def carry(handle: str, slug: str):
    session, project, _ = _load(handle, slug, edit=True)
    if not ActionForm().validate_on_submit():
        abort(400)
    done = commit_or_show(
        session,
        None,
        lambda: service.carry_forward(session, project, actor=current_user, now=utcnow()),
    )
    if not done:
        flash(done.error.message, "error")
        return redirect(project_url(project))
    new = done.value
    flash("Carried into the next season with a fresh plan. Your write-up came along.", "success")
    return redirect(project_url(new))


@bp.get("/invitations")
@login_required
def invitations():
    return render_template(
        "projects/invitations.html",
        invitations=service.pending_invitations(get_session(), current_user),
    )


@bp.post("/invitations/<int:invitation_id>/<any(accept, decline):answer>")
@login_required
def answer_invitation(invitation_id: int, answer: str):
    if not ActionForm().validate_on_submit():
        abort(400)
    session = get_session()
    service.answer_invitation(session, current_user, invitation_id, accept=answer == "accept")
    session.commit()
    flash("Invitation accepted." if answer == "accept" else "Invitation declined.", "success")
    return redirect(url_for("projects.invitations"))
