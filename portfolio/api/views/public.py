"""Token-free reads of what any visitor may see: public profiles and project pages.

The project operation follows the web page's rule (public and unlisted
projects, by their address); the profile list shows public projects only,
as the profile page does. A presented token is still checked (a bad one is
401) but never widens what these operations show.
"""

from __future__ import annotations

from ...auth import service as accounts
from ...auth.rules import HANDLE_RE
from ...db import get_session
from ...errors import DomainError, NotFound
from ...models import MemberStatus, Project, Season, User
from ...projects import access
from ...projects import service as projects
from ...projects.service import SLUG_RE
from ...public import service as public
from ...seasons import milestones
from ...tracking.settings import source_name
from .. import present, schemas, schemas_public
from ..pagination import offset_page
from ..routing import operation

HANDLE = "<string(maxlength=30):handle>"
SLUG = "<string(maxlength=80):slug>"


def _owner(handle: str) -> User:
    user = accounts.get_user_by_handle(get_session(), handle) if HANDLE_RE.match(handle) else None
    if user is None:
        raise NotFound("There is no one with that handle.")
    return user


def _card(project: Project, season: Season, owner: User) -> dict:
    return {
        "owner": owner.handle,
        "slug": project.slug,
        "title": project.title,
        "summary": project.summary,
        "season": season.slug,
        "url": present.project_url(owner, project),
        "updated_at": project.updated_at,
    }


@operation(
    "GET",
    f"/public/users/{HANDLE}/projects",
    summary="A person's public projects",
    tag="public",
    scope=None,
    response=schemas_public.PublicProjectPage,
    query=schemas.PageQuery,
)
def public_projects(handle: str, query: schemas.PageQuery) -> schemas_public.PublicProjectPage:
    """The public projects on a profile, newest season first. No token needed."""
    session = get_session()
    user = _owner(handle)
    rows = public.public_projects(session, user)
    page, next_cursor = offset_page(rows, cursor=query.cursor, limit=query.limit)
    return schemas_public.PublicProjectPage(
        items=[
            schemas_public.PublicProjectCard(**_card(p, s, session.get(User, p.owner_id)))
            for p, s in page
        ],
        next_cursor=next_cursor,
    )


@operation(
    "GET",
    f"/public/projects/{HANDLE}/{SLUG}",
    summary="A public project page",
    tag="public",
    scope=None,
    response=schemas_public.PublicProject,
)
def public_project(handle: str, slug: str) -> schemas_public.PublicProject:
    """A public or unlisted project with its milestones and synced runs. No token needed.

    Old addresses and a team member's handle resolve to the project (see `url`).
    """
    session = get_session()
    if not (HANDLE_RE.match(handle) and SLUG_RE.match(slug)):
        raise NotFound("There is no such project.")
    try:
        project, _moved = projects.resolve(session, handle, slug)
    except DomainError:
        raise NotFound("There is no such project.") from None
    if not access.can_view(session, project, None):
        raise NotFound("There is no such project.")
    season = session.get(Season, project.season_id)
    owner = session.get(User, project.owner_id)
    assert season is not None and owner is not None
    _, value = public.headline_value(session, project)
    return schemas_public.PublicProject(
        **_card(project, season, owner),
        members=[
            u.handle
            for u, status in projects.members_of(session, project.id)
            if status == MemberStatus.accepted
        ],
        tags=present.tags(session, project.id),
        repo_url=project.repo_url,
        problem_md=project.problem_md,
        body_md=project.body_md,
        headline_metric=project.headline_metric,
        headline_goal=str(project.headline_goal),
        headline_value=value,
        milestones=[
            schemas_public.PublicMilestone(title=m.title, due_at=m.due_at, done_at=m.done_at)
            for m in milestones.list_for(session, project.id)
        ],
        runs=[
            schemas_public.PublicRun(
                id=link.id,
                label=link.label or snap.name or snap.run_id,
                state=snap.state,
                url=snap.url,
                source=source_name(link.provider),
                started_at=snap.started_at,
                summary=snap.summary,
            )
            for link, snap in public.visible_runs(session, project.id)
        ],
    )
