"""Turn models into response models; the only place that knows both shapes."""

from __future__ import annotations

from flask import current_app, url_for
from sqlmodel import Session

from ..discovery import tags as project_tags
from ..models import (
    MemberStatus,
    Milestone,
    Notification,
    Project,
    Season,
    User,
    Visibility,
    utcnow,
)
from ..notify import inbox
from ..projects import service as projects
from . import schemas


def absolute(path: str) -> str:
    """A link on the site's public address (BASE_URL), whatever host the API was called on."""
    return current_app.config["BASE_URL"] + path


def project_url(owner: User, project: Project) -> str:
    return absolute(url_for("public.project", handle=owner.handle, slug=project.slug))


def project(session: Session, project: Project, season: Season | None = None) -> schemas.ProjectOut:
    season = season or session.get(Season, project.season_id)
    owner = session.get(User, project.owner_id)
    assert season is not None and owner is not None
    url = project_url(owner, project)
    members = [
        user.handle
        for user, status in projects.members_of(session, project.id)
        if status == MemberStatus.accepted
    ]
    return schemas.ProjectOut(
        id=project.id,
        slug=project.slug,
        title=project.title,
        summary=project.summary,
        problem_md=project.problem_md,
        visibility=str(project.visibility),
        repo_url=project.repo_url,
        headline_metric=project.headline_metric,
        headline_goal=str(project.headline_goal),
        season=season.slug,
        owner=owner.handle,
        members=members,
        tags=tags(session, project.id),
        url=url,
        public_url=None if project.visibility == Visibility.draft else url,
        created_at=project.created_at,
        updated_at=project.updated_at,
        last_activity_at=project.last_activity_at,
    )


def tags(session: Session, project_id: int) -> list[schemas.TagOut]:
    return [
        schemas.TagOut(slug=t.slug, label=t.label)
        for t in project_tags.project_tags(session, project_id)
    ]


def milestone(m: Milestone) -> schemas.MilestoneOut:
    return schemas.MilestoneOut(
        id=m.id,
        project_id=m.project_id,
        title=m.title,
        description=m.description,
        position=m.position,
        due_at=m.due_at,
        done=m.done_at is not None,
        done_at=m.done_at,
        done_note=m.done_note,
        created_at=m.created_at,
    )


def notification(n: Notification, reader: User) -> schemas.NotificationOut:
    return schemas.NotificationOut(
        id=n.id,
        kind=n.kind,
        title=n.title,
        body=inbox.body_of(n, reader.timezone, utcnow()),
        url=n.url,
        created_at=n.created_at,
        read_at=n.read_at,
        read=n.read_at is not None,
    )
