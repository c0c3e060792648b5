"""The caller's projects: list, plan, read, edit. Same rules as the web forms (projects.service)."""

from __future__ import annotations

from flask import url_for

from ...auth.rules import ValidationError
from ...auth.tokens import Scope
from ...db import get_session
from ...discovery import tags
from ...errors import NotFound
from ...models import utcnow
from ...projects import service as projects
from ...seasons import service as seasons
from .. import auth, present, schemas
from ..loading import commit, project_for
from ..pagination import offset_page
from ..routing import Created, operation

ID = "<int:project_id>"


@operation(
    "GET",
    "/projects",
    summary="List your projects",
    tag="projects",
    scope=Scope.read,
    response=schemas.ProjectPage,
    query=schemas.ProjectQuery,
)
def list_projects(query: schemas.ProjectQuery) -> schemas.ProjectPage:
    """Projects you are a member of, newest season first; filter by `season` or `slug`."""
    session = get_session()
    rows = projects.projects_of(session, auth.caller().id)
    if query.season is not None:
        rows = [(p, s) for p, s in rows if s.slug == query.season]
    if query.slug is not None:
        rows = [(p, s) for p, s in rows if p.slug == query.slug]
    page, next_cursor = offset_page(rows, cursor=query.cursor, limit=query.limit)
    return schemas.ProjectPage(
        items=[present.project(session, p, s) for p, s in page], next_cursor=next_cursor
    )


@operation(
    "POST",
    "/projects",
    summary="Plan a project",
    tag="projects",
    scope=Scope.write,
    response=schemas.ProjectOut,
    status=201,
    body=schemas.ProjectCreate,
)
def create_project(body: schemas.ProjectCreate) -> Created:
    """Plan a project in a season (default: the current one), with the season's milestone plan.

    A second project in the same season is a 409 unless `allow_second` is true.
    """
    session = get_session()
    now = utcnow()
    current, _ = seasons.ensure_current_and_next(session, now.date())
    season = current
    if body.season is not None:
        try:
            season = seasons.require(session, body.season)
        except NotFound:
            raise ValidationError("There is no season with that slug.", field="season") from None
    project = projects.create(
        session,
        owner=auth.caller(),
        season=season,
        fields=projects.ProjectFields(body.title, body.summary, body.problem_md, body.repo_url),
        team_handles=list(body.team),
        allow_second=body.allow_second,
        now=now,
    )
    commit(session)
    location = url_for("api.get_project", project_id=project.id, _external=True)
    return Created(present.project(session, project, season), location)


@operation(
    "GET",
    f"/projects/{ID}",
    summary="Read a project",
    tag="projects",
    scope=Scope.read,
    response=schemas.ProjectOut,
)
def get_project(project_id: int) -> schemas.ProjectOut:
    """One of your projects (or, for mentors, a mentee's)."""
    project, season = project_for(auth.caller(), project_id)
    return present.project(get_session(), project, season)


@operation(
    "PATCH",
    f"/projects/{ID}",
    summary="Edit a project",
    tag="projects",
    scope=Scope.write,
    response=schemas.ProjectOut,
    body=schemas.ProjectUpdate,
)
def update_project(project_id: int, body: schemas.ProjectUpdate) -> schemas.ProjectOut:
    """Change the fields sent. A new `slug` keeps the old address as a redirect.

    `tags` replaces every tag, checked by the edit page's rules before anything changes.
    """
    session = get_session()
    project, season = project_for(auth.caller(), project_id, edit=True)
    new_tags = None if body.tags is None else tags.parse_labels(body.tags)

    def pick(name: str) -> str:
        value = getattr(body, name)
        return getattr(project, name) if value is None else value

    projects.update(
        session,
        project,
        fields=projects.ProjectFields(
            pick("title"), pick("summary"), pick("problem_md"), pick("repo_url")
        ),
        slug=pick("slug"),
        visibility=pick("visibility"),
        actor=auth.caller(),
        now=utcnow(),
    )
    if new_tags is not None:
        tags.set_tags(session, project, new_tags)
    commit(session)
    return present.project(session, project, season)
