"""Publishing from any page of a project: the draft banner and the visibility control."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template
from flask_login import current_user, login_required
from wtforms import HiddenField, StringField

from ..db import get_session
from ..forms import Form, commit_or_show, safe_next
from ..models import Project, Visibility, utcnow
from . import publishing
from .loading import load_project, project_url
from .views import bp


class VisibilityForm(Form):
    """The banner's buttons and the project page's control post this (CSRF-protected)."""

    visibility = StringField("Visibility")
    next = HiddenField()


@bp.app_context_processor
def _publishing_helpers() -> dict[str, Any]:
    return {"draft_banner": _banner}


def _banner(project: Any) -> dict[str, Any] | None:
    """Template helper: the draft banner of a project page, or None (cheap when public)."""
    if not isinstance(project, Project) or project.visibility != Visibility.draft:
        return None
    banner = publishing.draft_banner(get_session(), project, current_user)
    if banner is None:
        return None
    return {
        "can_publish": banner.can_publish,
        "action": project_url(project, "projects.set_visibility"),
    }


@bp.post("/u/<handle>/<slug>/visibility")
@login_required
def set_visibility(handle: str, slug: str):
    session, project, _ = load_project(handle, slug, edit=True)
    form = VisibilityForm()
    if not form.validate_on_submit():
        abort(400)  # only the CSRF token can fail here
    done = commit_or_show(
        session,
        None,
        lambda: publishing.set_visibility(
            session, project, form.visibility.data, actor=current_user, now=utcnow()
        ),
    )
    if not done:
        err = done.error
        status = err.status if 400 <= err.status < 500 else 422
        return render_template("projects/form_error.html", messages=[err.message]), status
    flash(publishing.MESSAGES[project.visibility], "success")
    return redirect(safe_next(form.next.data, project_url(project)), 303)
