"""Who may see and edit a project: one place for every page, feed and API."""

from __future__ import annotations

from sqlmodel import Session, select

from ..models import MemberStatus, MentorAssignment, Project, ProjectMember, User, Visibility


def member_ids(session: Session, project_id: int) -> list[int]:
    """Accepted members, owner included."""
    return list(
        session.exec(
            select(ProjectMember.user_id).where(
                ProjectMember.project_id == project_id,
                ProjectMember.status == MemberStatus.accepted,
            )
        )
    )


def is_member(session: Session, project: Project, user: User | None) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.id in member_ids(session, project.id)


def is_mentor_of(session: Session, project: Project, user: User | None) -> bool:
    """A mentor assigned to any member of the project for its season."""
    if user is None or not user.is_authenticated:
        return False
    members = member_ids(session, project.id)
    return (
        session.exec(
            select(MentorAssignment.id).where(
                MentorAssignment.mentor_id == user.id,
                MentorAssignment.season_id == project.season_id,
                MentorAssignment.learner_id.in_(members),
            )
        ).first()
        is not None
    )


def can_edit(session: Session, project: Project, user: User | None) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.is_admin or is_member(session, project, user)


def sees_hidden_runs(session: Session, project: Project, user: User | None) -> bool:
    """Hidden runs are for the people who manage them (members, admins), not for mentors.

    The one rule for pages, the API and the data export alike.
    """
    return can_edit(session, project, user)


def is_insider(session: Session, project: Project, user: User | None) -> bool:
    """Members, their mentors and admins: who sees drafts, moderates and sees cadence health."""
    if user is None or not user.is_authenticated:
        return False
    return (
        user.is_admin or is_member(session, project, user) or is_mentor_of(session, project, user)
    )


def can_view(session: Session, project: Project, user: User | None) -> bool:
    """Public and unlisted: anyone. Drafts: members, their mentors, admins."""
    if project.visibility in (Visibility.public, Visibility.unlisted):
        return True
    return is_insider(session, project, user)
