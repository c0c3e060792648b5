"""Mentor assignments and the mentor's view of their learners."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from ..auth import service as accounts
from ..auth.rules import ValidationError
from ..errors import Conflict, NotFound
from ..models import MemberStatus, MentorAssignment, Project, ProjectMember, Role, Season, User
from .health import URGENCY, Health, ProjectStats, health_of


def assign(session: Session, *, mentor_handle: str, learner_handle: str, season: Season):
    """Assign a mentor to a learner for one season."""
    mentor = accounts.get_user_by_handle(session, mentor_handle.strip().lstrip("@"))
    learner = accounts.get_user_by_handle(session, learner_handle.strip().lstrip("@"))
    if mentor is None:
        raise ValidationError("There is no one with that mentor handle.", field="mentor")
    if learner is None:
        raise ValidationError("There is no one with that learner handle.", field="learner")
    if mentor.role not in (Role.mentor, Role.admin):
        raise ValidationError(f"@{mentor.handle} is not a mentor yet.", field="mentor")
    if mentor.id == learner.id:
        raise ValidationError("A mentor cannot mentor themself.", field="learner")
    exists = session.exec(
        select(MentorAssignment.id).where(
            MentorAssignment.mentor_id == mentor.id,
            MentorAssignment.learner_id == learner.id,
            MentorAssignment.season_id == season.id,
        )
    ).first()
    if exists is not None:
        raise Conflict("That mentor already mentors that learner this season.")
    assignment = MentorAssignment(mentor_id=mentor.id, learner_id=learner.id, season_id=season.id)
    session.add(assignment)
    session.flush()
    return assignment


def unassign(session: Session, assignment_id: int) -> None:
    assignment = session.get(MentorAssignment, assignment_id)
    if assignment is None:
        raise NotFound("No such assignment.")
    session.delete(assignment)
    session.flush()


def list_assignments(session: Session) -> list[tuple[MentorAssignment, User, User, Season]]:
    rows = session.exec(
        select(MentorAssignment, Season)
        .join(Season, Season.id == MentorAssignment.season_id)
        .order_by(Season.starts_on.desc(), MentorAssignment.id)
    ).all()
    users = {
        u.id: u
        for u in session.exec(
            select(User).where(
                User.id.in_({a.mentor_id for a, _ in rows} | {a.learner_id for a, _ in rows})
            )
        )
    }
    return [(a, users[a.mentor_id], users[a.learner_id], s) for a, s in rows]


@dataclass(frozen=True)
class MentoredProject:
    learner: User
    project: Project
    season: Season
    health: Health
    stats: ProjectStats

    def days_since_activity(self, now: datetime) -> int:
        return max(0, (now - self.stats.last_activity_at).days)


def mentor_board(session: Session, mentor: User, now: datetime) -> list[MentoredProject]:
    """The mentor's learners' projects, behind first, then at risk, then on track."""
    rows = session.exec(
        select(User, Project, Season)
        .select_from(MentorAssignment)
        .join(User, User.id == MentorAssignment.learner_id)
        .join(
            ProjectMember,
            (ProjectMember.user_id == MentorAssignment.learner_id)
            & (ProjectMember.status == MemberStatus.accepted),
        )
        .join(
            Project,
            (Project.id == ProjectMember.project_id)
            & (Project.season_id == MentorAssignment.season_id),
        )
        .join(Season, Season.id == Project.season_id)
        .where(MentorAssignment.mentor_id == mentor.id)
    ).all()
    health = health_of(session, [p.id for _, p, _ in rows], now)
    board = [
        MentoredProject(learner, project, season, *health[project.id])
        for learner, project, season in rows
    ]
    far = datetime.max.replace(tzinfo=now.tzinfo)
    board.sort(key=lambda m: (URGENCY[m.health], m.stats.next_due_at or far, m.learner.handle))
    return board
