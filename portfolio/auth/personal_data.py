"""A person's own data, for their download (/settings/data.json).

The export holds what the person put in or may see, never more: projects
they are an accepted member of (a pending invitation shows only the title,
as the invitations page does), run links as projects.access lets them see
them, and their own rows everywhere else. Secrets (hashes, encrypted keys,
calendar tokens) are left out, as in a backup without secrets.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, SQLModel, col, or_, select

from ..backup import SECRETS, encode_value
from ..models import (
    ApiToken,
    CalendarFeed,
    Comment,
    CommentReport,
    Enrollment,
    FeedbackRequest,
    MemberStatus,
    MentorAssignment,
    Milestone,
    MilestoneFreeze,
    Notification,
    NotificationPreference,
    Project,
    ProjectImage,
    ProjectMember,
    ProjectRecap,
    ProjectTag,
    RunLink,
    RunSnapshot,
    TrackingCredential,
    Update,
    User,
)
from ..projects import access

FORMAT = "seasons-user-data/2"


def _row(obj: SQLModel) -> dict[str, Any]:
    table = obj.__table__  # type: ignore[attr-defined]
    return {
        c.name: encode_value(getattr(obj, c.name))
        for c in table.columns
        if (table.name, c.name) not in SECRETS
    }


def _rows(session: Session, query) -> list[dict[str, Any]]:
    return [_row(obj) for obj in session.exec(query)]


def _projects(session: Session, user: User) -> tuple[list[Project], list[dict[str, Any]]]:
    """The user's projects (accepted membership), and their open invitations by title only."""
    memberships = session.exec(
        select(ProjectMember, Project)
        .join(Project, col(Project.id) == ProjectMember.project_id)
        .where(ProjectMember.user_id == user.id)
        .order_by(col(Project.id))
    ).all()
    projects = [p for m, p in memberships if m.status == MemberStatus.accepted]
    invitations = [
        {"project_id": p.id, "title": p.title, "invited_at": encode_value(m.created_at)}
        for m, p in memberships
        if m.status != MemberStatus.accepted
    ]
    return projects, invitations


def _runs(session: Session, user: User, projects: list[Project]) -> list[RunLink]:
    """Run links of the user's projects, hidden ones only where access allows."""
    links: list[RunLink] = []
    for project in projects:
        query = select(RunLink).where(RunLink.project_id == project.id).order_by(col(RunLink.id))
        if not access.sees_hidden_runs(session, project, user):
            query = query.where(col(RunLink.hidden).is_(False))
        links += session.exec(query).all()
    return links


def user_data(session: Session, user: User) -> dict[str, Any]:
    """Everything a person put into Seasons and may see, for their own download."""
    projects, invitations = _projects(session, user)
    project_ids = [p.id for p in projects]
    links = _runs(session, user, projects)
    snapshot_ids = [link.current_snapshot_id for link in links if link.current_snapshot_id]
    mine = user.id
    return {
        "format": FORMAT,
        "profile": _row(user),
        "projects": [_row(p) for p in projects],
        "invitations": invitations,
        "milestones": _rows(
            session, select(Milestone).where(col(Milestone.project_id).in_(project_ids))
        ),
        "milestone_freezes": _rows(
            session,
            select(MilestoneFreeze).where(col(MilestoneFreeze.project_id).in_(project_ids)),
        ),
        "project_tags": _rows(
            session, select(ProjectTag).where(col(ProjectTag.project_id).in_(project_ids))
        ),
        "project_recaps": _rows(
            session, select(ProjectRecap).where(col(ProjectRecap.project_id).in_(project_ids))
        ),
        "images": _rows(
            session, select(ProjectImage).where(col(ProjectImage.project_id).in_(project_ids))
        ),
        "run_links": [_row(link) for link in links],
        "run_snapshots": _rows(
            session, select(RunSnapshot).where(col(RunSnapshot.id).in_(snapshot_ids))
        ),
        "updates": _rows(session, select(Update).where(Update.author_id == mine)),
        "comments": _rows(session, select(Comment).where(Comment.author_id == mine)),
        "comment_reports": _rows(
            session, select(CommentReport).where(CommentReport.reporter_id == mine)
        ),
        "feedback_requests": _rows(
            session, select(FeedbackRequest).where(FeedbackRequest.learner_id == mine)
        ),
        "notifications": _rows(session, select(Notification).where(Notification.user_id == mine)),
        "notification_preferences": _rows(
            session, select(NotificationPreference).where(NotificationPreference.user_id == mine)
        ),
        "calendar_feeds": _rows(session, select(CalendarFeed).where(CalendarFeed.user_id == mine)),
        "enrollments": _rows(session, select(Enrollment).where(Enrollment.user_id == mine)),
        "mentor_assignments": _rows(
            session,
            select(MentorAssignment).where(
                or_(MentorAssignment.mentor_id == mine, MentorAssignment.learner_id == mine)
            ),
        ),
        "api_tokens": _rows(session, select(ApiToken).where(ApiToken.user_id == mine)),
        "tracking_credentials": _rows(
            session, select(TrackingCredential).where(TrackingCredential.user_id == mine)
        ),
    }
