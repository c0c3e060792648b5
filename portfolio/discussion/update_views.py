"""Progress updates and feedback requests: post, list, edit, ask, ask any mentor.

These routes join the discussion blueprint (imported for that by
create_app), as the write-up routes join the projects blueprint. The list of
all updates is in page_views, with the other read-only pages.
"""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_login import current_user, login_required
from sqlmodel import Session, col, select

from ..errors import DomainError
from ..models import LinkKind, Milestone, Project, RunLink, utcnow
from ..projects.loading import load_project
from . import feedback, service, updates
from .forms import AskFeedbackForm, UpdateForm
from .rules import Limits
from .views import ID, back_to, bp, commit_or_refuse, form_page, post_limit


def update_form_for(session: Session, project: Project, **kwargs) -> UpdateForm:
    """The update form with this project's milestones and runs to choose from."""
    form = UpdateForm(**kwargs)
    milestones = session.exec(
        select(Milestone)
        .where(Milestone.project_id == project.id)
        .order_by(col(Milestone.due_at), col(Milestone.id))
    ).all()
    form.milestone_id.choices = [("", "None"), *[(str(m.id), m.title) for m in milestones]]
    links = session.exec(
        select(RunLink)
        .where(RunLink.project_id == project.id, RunLink.kind == LinkKind.run)
        .order_by(col(RunLink.created_at), col(RunLink.id))
    ).all()
    form.run_link_ids.choices = [(str(r.id), r.label or r.ref) for r in links]
    return form


def _refs(form: UpdateForm) -> tuple[int | None, list[int]]:
    milestone = service.parse_id(
        form.milestone_id.data, field="milestone_id", label="The milestone"
    )
    runs = [
        rid
        for value in form.run_link_ids.data or []
        if (rid := service.parse_id(value, field="run_link_ids", label="A run")) is not None
    ]
    return milestone, runs


@bp.post("/u/<handle>/<slug>/updates")
@post_limit
@login_required
def post_update(handle: str, slug: str):
    session, project, _ = load_project(handle, slug)
    form = update_form_for(session, project)
    if not form.validate_on_submit():
        abort(400)
    action = url_for("discussion.post_update", handle=handle, slug=slug)

    def post():
        milestone_id, run_ids = _refs(form)
        return updates.post_update(
            session,
            project=project,
            author=current_user,
            body=form.body.data,
            milestone_id=milestone_id,
            run_link_ids=run_ids,
            ask_feedback=form.ask_feedback.data,
            any_mentor=form.any_mentor.data,
            now=utcnow(),
        )

    update = commit_or_refuse(form, post, action=action, heading="Your update", project=project)
    flash(
        "Update posted."
        + (" Your mentors will see it in their queue." if form.ask_feedback.data else ""),
        "success",
    )
    return back_to(project, f"update-{update.id}")


@bp.route(f"/u/<handle>/<slug>/updates/<{ID}:update_id>/edit", methods=["GET", "POST"])
@post_limit
@login_required
def edit_update(handle: str, slug: str, update_id: int):
    session, project, _ = load_project(handle, slug)
    update = _update(session, project, update_id)
    if update.author_id != current_user.id:
        abort(403)
    data = {
        "body": update.body_md,
        "milestone_id": str(update.milestone_id or ""),
        "run_link_ids": [str(i) for i in update.run_link_ids],
    }
    form = update_form_for(session, project, data=data)
    del form.ask_feedback, form.any_mentor  # asking is its own button on the update
    action = url_for("discussion.edit_update", handle=handle, slug=slug, update_id=update_id)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)

        def save() -> None:
            milestone_id, run_ids = _refs(form)
            updates.edit_update(
                session,
                project=project,
                update=update,
                actor=current_user,
                body=form.body.data,
                milestone_id=milestone_id,
                run_link_ids=run_ids,
                now=utcnow(),
            )

        commit_or_refuse(form, save, action=action, heading="Edit your update", project=project)
        flash("Update saved.", "success")
        return back_to(project, f"update-{update.id}")
    return form_page(form, action=action, heading="Edit your update", project=project)


def _update(session: Session, project: Project, update_id: int):
    try:
        return service.get_update(session, project, update_id)
    except DomainError:
        abort(404)


@bp.post(f"/u/<handle>/<slug>/updates/<{ID}:update_id>/feedback")
@post_limit
@login_required
def ask_feedback(handle: str, slug: str, update_id: int):
    """Ask for feedback on an update posted earlier."""
    session, project, _ = load_project(handle, slug)
    update = _update(session, project, update_id)
    form = AskFeedbackForm()
    if not form.validate_on_submit():
        abort(400)
    feedback.ask(
        session, update=update, actor=current_user, any_mentor=form.any_mentor.data, now=utcnow()
    )
    session.commit()
    flash("Feedback requested. Your mentors will see it in their queue.", "success")
    return back_to(project, f"update-{update.id}")


@bp.post(f"/u/<handle>/<slug>/updates/<{ID}:update_id>/feedback/any-mentor")
@post_limit
@login_required
def reopen_feedback(handle: str, slug: str, update_id: int):
    """After the wait, let every mentor see the request."""
    session, project, _ = load_project(handle, slug)
    update = _update(session, project, update_id)
    if not AskFeedbackForm().validate_on_submit():
        abort(400)
    request_ = feedback.request_for(session, update.id)
    if request_ is None:
        abort(404)
    feedback.reopen_to_any_mentor(
        session, request=request_, actor=current_user, now=utcnow(), limits=Limits.from_config()
    )
    session.commit()
    flash("Every mentor can now see your request.", "success")
    return back_to(project, f"update-{update.id}")
