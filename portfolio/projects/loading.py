"""Resolve a project URL for a view, with the permission rules applied."""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_login import current_user

from ..db import get_session
from ..errors import DomainError
from ..models import Project, Season, User
from . import access, service


def project_url(project: Project, endpoint: str = "public.project", **kwargs) -> str:
    owner = get_session().get(User, project.owner_id)
    return url_for(endpoint, handle=owner.handle, slug=project.slug, **kwargs)


def load_project(handle: str, slug: str, *, edit: bool = False):
    """404 for projects the viewer may not see (drafts), 403 for edits by non-members.

    Old slugs and a team member's handle redirect (301) to the current URL.
    """
    session = get_session()
    try:
        project, moved = service.resolve(session, handle, slug)
    except DomainError:
        abort(404)
    if not access.can_view(session, project, current_user):
        abort(404)
    if moved and request.method == "GET":
        args = dict(request.view_args or {}, handle=None, slug=None)
        args = {k: v for k, v in args.items() if v is not None}
        abort(redirect(project_url(project, request.endpoint, **args), 301))
    if edit and not access.can_edit(session, project, current_user):
        abort(403)
    return session, project, session.get(Season, project.season_id)
