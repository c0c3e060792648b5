"""Who sees cadence health, and the learner's opt-in to show it in public.

Health (on track / at risk / behind) and the on-time share exist to help:
the learner, their team, their mentors and admins use them to act. On a
public page, the URL a career changer sends to a recruiter, they mostly
brand someone who joined late or had a bad week. So public pages show
progress (milestones done, seasons completed, streak) and show health only
when the learner opts in. A project's health belongs to its whole team: it
is public only when every accepted member opted in.
"""

from __future__ import annotations

from sqlalchemy import case, func
from sqlmodel import Session, select

from ..models import MemberStatus, Project, ProjectMember, User
from ..page_version import bump_versions
from ..projects import access


def public_health_projects(session: Session, project_ids: list[int]) -> set[int]:
    """The projects, among these, whose every accepted member shows the full record."""
    if not project_ids:
        return set()
    opted_out = func.sum(case((User.public_full_record.is_(True), 0), else_=1))
    rows = session.exec(
        select(ProjectMember.project_id)
        .join(User, User.id == ProjectMember.user_id)
        .where(
            ProjectMember.project_id.in_(project_ids),
            ProjectMember.status == MemberStatus.accepted,
        )
        .group_by(ProjectMember.project_id)
        .having(opted_out == 0)
    )
    return set(rows)


def shows_health(session: Session, project: Project, viewer: User | None) -> bool:
    """Whether this viewer sees the project's health badge, overdue states and deadlines."""
    return access.is_insider(session, project, viewer) or project.id in public_health_projects(
        session, [project.id]
    )


def set_full_record(session: Session, user: User, *, show: bool) -> User:
    """Opt in to (or out of) a public full record; cached pages of the user's projects renew."""
    user.public_full_record = bool(show)
    session.add(user)
    mine = select(ProjectMember.project_id).where(
        ProjectMember.user_id == user.id, ProjectMember.status == MemberStatus.accepted
    )
    bump_versions(session, mine)
    session.flush()
    return user
