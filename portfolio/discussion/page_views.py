"""Read-only discussion pages, and the section the project page includes.

The project page (public.project) renders templates/discussion/_section.html,
which calls `discussion_for(project)`; for anonymous visitors that happens
inside the page build that is cached per project version, so the section
carries no CSRF token or anything else tied to a session.
"""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from flask_login import current_user
from markupsafe import Markup

from ..db import get_session
from ..errors import DomainError
from ..forms import ActionForm
from ..models import Project, User, utcnow
from ..projects.loading import load_project
from . import reading, service
from .forms import PolicyForm
from .rules import Limits, policy_label
from .update_views import update_form_for
from .views import ID, bp


def _page() -> int:
    return max(1, min(request.args.get("page", 1, type=int) or 1, 10_000))


@bp.get(f"/u/<handle>/<slug>/comments/<{ID}:comment_id>")
def thread(handle: str, slug: str, comment_id: int):
    """The permalink of a comment: its whole thread, with the comment highlighted."""
    session, project, _ = load_project(handle, slug)
    try:
        comment = service.get_comment(session, project, comment_id)
    except DomainError:
        abort(404)
    viewer = reading.viewer_for(session, project, current_user)
    view, update = reading.thread_of(
        session, project, comment, viewer, now=utcnow(), limits=Limits.from_config()
    )
    return render_template(
        "discussion/thread.html",
        project=project,
        thread=view,
        update=update,
        target=comment.id,
        d=section_context(project, viewer),
    )


@bp.get("/u/<handle>/<slug>/updates")
def updates(handle: str, slug: str):
    """All of a project's updates, newest first, 20 a page."""
    return _listing(handle, slug, reading.updates, "discussion/updates.html", "updates", 20)


@bp.get("/u/<handle>/<slug>/discussion")
def index(handle: str, slug: str):
    """Every comment on the project itself, 50 threads a page."""
    return _listing(handle, slug, reading.project_threads, "discussion/index.html", "threads", 50)


def _listing(handle: str, slug: str, read, template: str, name: str, per_page: int):
    """One page of a project's updates or threads, as this viewer may see them."""
    session, project, _ = load_project(handle, slug)
    page = _page()
    viewer = reading.viewer_for(session, project, current_user)
    items, more = read(
        session,
        project,
        viewer,
        now=utcnow(),
        limits=Limits.from_config(),
        offset=(page - 1) * per_page,
        limit=per_page,
    )
    return render_template(
        template,
        project=project,
        page=page,
        more=more,
        d=section_context(project, viewer),
        **{name: items},
    )


def section_context(project: Project, viewer: reading.Viewer) -> dict[str, Any]:
    """What every discussion template needs besides the items: viewer, forms, URLs."""
    owner = get_session().get(User, project.owner_id)
    return {
        "viewer": viewer,
        "owner_handle": owner.handle if owner else "",
        "policy_label": policy_label(project),
        # Forms only for signed-in viewers: anonymous pages are cached and shared,
        # so they must never carry a session's CSRF token. One field serves every
        # form: a form object per button of every comment showed up in profiles.
        "csrf": Markup(ActionForm(formdata=None).csrf_token()) if viewer.user else None,
    }


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"discussion_for": discussion_for}


def discussion_for(project: Project) -> dict[str, Any]:
    """The project page's updates and discussion section, for its template."""
    session = get_session()
    viewer = reading.viewer_for(session, project, current_user)
    now, limits = utcnow(), Limits.from_config()
    updates, more_updates = reading.updates(session, project, viewer, now=now, limits=limits)
    threads, more_threads = reading.project_threads(
        session, project, viewer, now=now, limits=limits
    )
    signed_in = viewer.user is not None
    can_set_policy = signed_in and (viewer.is_member or viewer.is_admin)
    return {
        **section_context(project, viewer),
        "updates": updates,
        "more_updates": more_updates,
        "threads": threads,
        "more_threads": more_threads,
        "update_form": update_form_for(session, project) if viewer.is_member else None,
        "policy_form": (
            PolicyForm(formdata=None, data={"comment_policy": project.comment_policy})
            if can_set_policy
            else None
        ),
    }
