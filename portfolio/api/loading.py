"""Find a project for an API caller: one rule for every /projects/{id} operation.

By id, a project is visible to its members and their assigned mentors only.
Public and unlisted projects are read through /public/… by their address:
sequential ids must not let anyone enumerate unlisted projects. The API has
no admin powers, whoever calls it (a token never works for admin actions).
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ..db import get_session
from ..errors import Forbidden, NotFound
from ..models import Project, Season, User
from ..projects import access
from .errors import Problem


def project_for(user: User, project_id: int, *, edit: bool = False) -> tuple[Project, Season]:
    """404 unless the caller may see the project; 403 when they may see but not change it."""
    session = get_session()
    project = session.get(Project, project_id)
    if project is None or not (
        access.is_member(session, project, user) or access.is_mentor_of(session, project, user)
    ):
        raise NotFound("There is no project with that id among yours.")
    if edit and not access.is_member(session, project, user):
        raise Forbidden("Only members of this project may change it.")
    season = session.get(Season, project.season_id)
    assert season is not None
    return project, season


def commit(session: Session | None = None) -> None:
    """Commit the request; a unique key lost to a concurrent request is a 409, not a 500."""
    session = session or get_session()
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Problem(
            409, "That conflicts with a change made at the same moment; try again."
        ) from None
