"""Recaps in lists: the profile's "Season recaps" and the dashboard's nudge to write one.

Each takes a constant number of statements whatever the number of projects (a test
counts them), by loading milestones and freezes for all the projects at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_
from sqlmodel import Session, col, select

from ..models import (
    MemberStatus,
    Milestone,
    MilestoneFreeze,
    Project,
    ProjectMember,
    ProjectRecap,
    RunLink,
    Season,
    User,
    Visibility,
)
from ..public import progress
from . import recaps


def awaiting_recap(
    session: Session, projects: list[tuple[Project, Season]], now: datetime
) -> set[int]:
    """The projects, among these, whose recap is available and not yet published.

    For the learner's dashboard: two statements whatever the number of projects.
    """
    ids = [p.id for p, _ in projects]
    if not ids:
        return set()
    published = set(
        session.exec(
            select(ProjectRecap.project_id).where(
                col(ProjectRecap.project_id).in_(ids), col(ProjectRecap.published_at).is_not(None)
            )
        )
    )
    last: dict[int, Milestone] = {}
    for milestone in session.exec(
        select(Milestone)
        .where(col(Milestone.project_id).in_(ids))
        .order_by(Milestone.due_at, Milestone.position, Milestone.id)
    ):
        last[milestone.project_id] = milestone  # the plan's last one wins
    return {
        p.id
        for p, s in projects
        if p.id not in published
        and (now.date() > s.ends_on or (p.id in last and last[p.id].done_at is not None))
    }


@dataclass(frozen=True)
class ProfileRecap:
    project: Project
    season: Season
    owner_handle: str
    improvement: recaps.Improvement | None


def profile_recaps(session: Session, user: User) -> list[ProfileRecap]:
    """Published recaps of the user's public projects, newest season first.

    A constant number of statements whatever the count: one for projects, seasons,
    owners and recaps; one for every completed milestone's freeze; one for hidden runs.
    """
    rows = session.exec(
        select(Project, Season, User.handle)
        .join(ProjectRecap, ProjectRecap.project_id == Project.id)
        .join(Season, Season.id == Project.season_id)
        .join(User, User.id == Project.owner_id)
        .join(
            ProjectMember,
            and_(
                ProjectMember.project_id == Project.id,
                ProjectMember.user_id == user.id,
                ProjectMember.status == MemberStatus.accepted,
            ),
        )
        .where(
            Project.visibility == Visibility.public,
            col(ProjectRecap.published_at).is_not(None),
        )
        .order_by(col(Season.starts_on).desc(), col(Project.created_at).desc())
    ).all()
    if not rows:
        return []
    ids = [p.id for p, _, _ in rows]
    frozen: dict[int, list[tuple[Milestone, MilestoneFreeze | None]]] = {}
    for milestone, freeze in session.exec(
        select(Milestone, MilestoneFreeze)
        .outerjoin(MilestoneFreeze, MilestoneFreeze.milestone_id == Milestone.id)
        .where(col(Milestone.project_id).in_(ids), col(Milestone.done_at).is_not(None))
        .order_by(Milestone.due_at, Milestone.position, Milestone.id)
    ):
        frozen.setdefault(milestone.project_id, []).append((milestone, freeze))
    hidden = set(
        session.exec(
            select(RunLink.id).where(col(RunLink.project_id).in_(ids), RunLink.hidden.is_(True))
        )
    )
    out = []
    for project, season, handle in rows:
        points = [progress.checkpoint(m, f, hidden) for m, f in frozen.get(project.id, [])]
        out.append(ProfileRecap(project, season, handle, recaps.improvement_of(points)[0]))
    return out
