"""Data builders for notification and scheduler tests: plain rows, committed."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from portfolio.models import (
    MemberStatus,
    Milestone,
    Project,
    ProjectMember,
    Season,
    User,
)

NOW = datetime(2027, 2, 10, 12, 0, tzinfo=UTC)


def make_season(session: Session, slug: str = "2027-q1") -> Season:
    season = Season(
        slug=slug,
        title=slug.replace("-q", " Q").upper() if "-q" in slug else slug,
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 3, 31),
        plan=[],
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    session.add(season)
    session.flush()
    return season


def make_project(
    session: Session,
    owner: User,
    *,
    season: Season | None = None,
    members: tuple[User, ...] = (),
    invited: tuple[User, ...] = (),
    title: str = "Churn model",
    slug: str = "churn-model",
) -> Project:
    """A project with its owner (and `members`) accepted and `invited` not yet."""
    season = season or make_season(session)
    project = Project(
        season_id=season.id,
        owner_id=owner.id,
        title=title,
        slug=slug,
        created_at=NOW,
        updated_at=NOW,
        last_activity_at=NOW,
    )
    session.add(project)
    session.flush()
    for user, status in (
        [(owner, MemberStatus.accepted)]
        + [(u, MemberStatus.accepted) for u in members]
        + [(u, MemberStatus.invited) for u in invited]
    ):
        session.add(ProjectMember(project_id=project.id, user_id=user.id, status=status))
    session.flush()
    return project


def make_milestone(
    session: Session, project: Project, due_at: datetime, title: str = "Baseline"
) -> Milestone:
    milestone = Milestone(project_id=project.id, title=title, due_at=due_at)
    session.add(milestone)
    session.flush()
    return milestone


def engine_of(app) -> Engine:  # type: ignore[no-untyped-def]
    return app.extensions["engine"]
