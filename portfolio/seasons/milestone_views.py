"""A project's milestone routes: add, edit, complete, reopen, delete, re-freeze.

They live beside their service (seasons/milestones.py, seasons/freezes.py) but on
the projects blueprint, so their endpoint names (``projects.complete_milestone`` …)
and URLs stay what templates, bookmarks and other modules know.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..errors import DomainError
from ..forms import ActionForm, commit_or_show
from ..models import utcnow
from ..projects.loading import load_project, project_url
from ..projects.views import bp
from ..timeutil import zone
from . import freezes, milestones
from .forms import CompleteForm, MilestoneForm, RefreezeForm


def _load(handle: str, slug: str):
    return load_project(handle, slug, edit=True)


@bp.post("/u/<handle>/<slug>/milestones")
@login_required
def add_milestone(handle: str, slug: str):
    session, project, season = _load(handle, slug)
    form = MilestoneForm()
    if form.validate_on_submit() and commit_or_show(
        session, form, lambda: milestones.add(session, project, season, **_milestone_fields(form))
    ):
        flash("Milestone added.", "success")
        return redirect(project_url(project))
    return _milestone_error(form)


@bp.route("/u/<handle>/<slug>/milestones/<int:milestone_id>", methods=["GET", "POST"])
@login_required
def edit_milestone(handle: str, slug: str, milestone_id: int):
    session, project, season = _load(handle, slug)
    milestone = _milestone(session, project, milestone_id)
    local = milestone.due_at.astimezone(zone(current_user.timezone))
    form = MilestoneForm(
        data={"title": milestone.title, "due_date": local.date(), "due_time": local.time()}
    )
    if form.validate_on_submit() and commit_or_show(
        session,
        form,
        lambda: milestones.update(session, project, season, milestone, **_milestone_fields(form)),
    ):
        flash("Milestone saved.", "success")
        return redirect(project_url(project))
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "projects/milestone.html", form=form, project=project, milestone=milestone
    ), status


@bp.post("/u/<handle>/<slug>/milestones/<int:milestone_id>/done")
@login_required
def complete_milestone(handle: str, slug: str, milestone_id: int):
    session, project, _ = _load(handle, slug)
    milestone = _milestone(session, project, milestone_id)
    form = CompleteForm()
    if not form.validate_on_submit():
        return _milestone_error(form)
    milestones.complete(session, project, milestone, note=form.note.data or "", now=utcnow())
    session.commit()
    flash(f"“{milestone.title}” is done. Well done!", "success")
    if request.form.get("back") == "dashboard":
        return redirect(url_for("seasons.dashboard"))
    return redirect(project_url(project))


@bp.post("/u/<handle>/<slug>/milestones/<int:milestone_id>/reopen")
@login_required
def reopen_milestone(handle: str, slug: str, milestone_id: int):
    return _milestone_button(handle, slug, milestone_id, milestones.reopen)


@bp.post("/u/<handle>/<slug>/milestones/<int:milestone_id>/delete")
@login_required
def delete_milestone(handle: str, slug: str, milestone_id: int):
    return _milestone_button(handle, slug, milestone_id, milestones.delete, "Milestone deleted.")


def _milestone_button(handle: str, slug: str, milestone_id: int, act, done: str = ""):
    """A one-button change to a milestone (reopen, delete): CSRF-checked, applied, committed."""
    session, project, _ = _load(handle, slug)
    milestone = _milestone(session, project, milestone_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    act(session, project, milestone, now=utcnow())
    session.commit()
    if done:
        flash(done, "success")
    return redirect(project_url(project))


@bp.post("/u/<handle>/<slug>/milestones/<int:milestone_id>/refreeze")
@login_required
def refreeze_milestone(handle: str, slug: str, milestone_id: int):
    """Freeze a done milestone's figures again, once, with a note (the owner only)."""
    session, project, _ = _load(handle, slug)
    if project.owner_id != current_user.id:
        abort(403)
    milestone = _milestone(session, project, milestone_id)
    form = RefreezeForm()
    if form.validate_on_submit() and commit_or_show(
        session,
        form,
        lambda: freezes.refreeze(session, project, milestone, note=form.note.data, now=utcnow()),
    ):
        flash(f"The figures of “{milestone.title}” are frozen again.", "success")
        return redirect(project_url(project))
    return _milestone_error(form, status=409 if _was_refrozen(session, milestone) else 422)


def _was_refrozen(session, milestone) -> bool:
    row = freezes.get(session, milestone.id)
    return row is not None and row.refrozen_at is not None


def _milestone(session, project, milestone_id):
    try:
        return milestones.get(session, project, milestone_id)
    except DomainError:
        abort(404)


def _milestone_fields(form: MilestoneForm) -> dict:
    """The milestone form's values as the milestone service takes them."""
    return {
        "title": form.title.data,
        "day": form.due_date.data,
        "at": form.due_time.data,
        "tz_name": current_user.timezone,
        "now": utcnow(),
    }


def _milestone_error(form, *, status: int = 422):
    """A small form posted from a list failed: show what was wrong, with a way back."""
    messages = [
        f"{getattr(form, name).label.text}: {error}"
        for name, errors in form.errors.items()
        for error in errors
    ]
    messages += list(form.form_errors)
    return render_template("projects/form_error.html", messages=messages), status
