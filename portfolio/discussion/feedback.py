"""Feedback requests (Exercism-style): ask, queue for mentors, answer, flag, re-open.

A learner marks one of their updates "feedback wanted". It waits in the
queue of the learner's mentors for that season, or of every mentor when the
learner opted in, oldest first. The first comment on that update by an
eligible mentor answers it. After `feedback_flag_after` without an answer a
job flags it to admins and tells the learner, who may then open it to any
mentor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import and_, exists, or_
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from ..errors import Conflict, Forbidden
from ..models import (
    FeedbackRequest,
    MemberStatus,
    MentorAssignment,
    Project,
    ProjectMember,
    Role,
    Update,
    User,
    Visibility,
)
from ..notify.service import notify
from ..projects import access
from .rules import Limits

logger = logging.getLogger(__name__)


def request_for(session: Session, update_id: int) -> FeedbackRequest | None:
    return session.exec(
        select(FeedbackRequest).where(FeedbackRequest.update_id == update_id)
    ).first()


def ask(
    session: Session, *, update: Update, actor: User, any_mentor: bool, now: datetime
) -> FeedbackRequest:
    """Mark an update "feedback wanted"; only its author may, once per update."""
    if update.author_id != actor.id:
        raise Forbidden("Only the author of an update can ask for feedback on it.")
    if request_for(session, update.id) is not None:
        raise Conflict("You already asked for feedback on this update.")
    request = FeedbackRequest(
        update_id=update.id, learner_id=actor.id, any_mentor=any_mentor, created_at=now
    )
    try:
        with session.begin_nested():  # a double click races to the UNIQUE update_id
            session.add(request)
    except IntegrityError as exc:
        raise Conflict("You already asked for feedback on this update.") from exc
    return request


def is_assigned_mentor(session: Session, mentor_id: int, learner_id: int, season_id: int) -> bool:
    return (
        session.exec(
            select(MentorAssignment.id).where(
                MentorAssignment.mentor_id == mentor_id,
                MentorAssignment.learner_id == learner_id,
                MentorAssignment.season_id == season_id,
            )
        ).first()
        is not None
    )


def may_answer(session: Session, request: FeedbackRequest, project: Project, user: User) -> bool:
    """The learner's mentor for the season, or any mentor when the learner opted in."""
    if not user.is_mentor or access.is_member(session, project, user):
        return False
    return request.any_mentor or is_assigned_mentor(
        session, user.id, request.learner_id, project.season_id
    )


def answer_if_mentor(
    session: Session, *, update_id: int, project: Project, commenter: User, now: datetime
) -> FeedbackRequest | None:
    """Mark the update's open request answered when `commenter` may answer it."""
    request = request_for(session, update_id)
    if request is None or request.answered_at is not None:
        return None
    if not may_answer(session, request, project, commenter):
        return None
    # Conditional UPDATE: of two mentors answering at once, one answers it.
    result = session.execute(
        sql_update(FeedbackRequest)
        .where(col(FeedbackRequest.id) == request.id, col(FeedbackRequest.answered_at).is_(None))
        .values(answered_at=now, answered_by_id=commenter.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.refresh(request)
    return request


def can_reopen(request: FeedbackRequest, now: datetime, limits: Limits) -> bool:
    return (
        request.answered_at is None
        and not request.any_mentor
        and now - request.created_at >= limits.feedback_flag_after
    )


def reopen_to_any_mentor(
    session: Session, *, request: FeedbackRequest, actor: User, now: datetime, limits: Limits
) -> FeedbackRequest:
    """After the wait, the learner may let any mentor answer; the request keeps its place."""
    if request.learner_id != actor.id:
        raise Forbidden("Only the learner who asked can change this request.")
    if request.answered_at is not None:
        raise Conflict("A mentor already answered this request.")
    if request.any_mentor:
        raise Conflict("Every mentor can already see this request.")
    if not can_reopen(request, now, limits):
        days = limits.feedback_flag_after.days
        raise Conflict(f"You can ask any mentor once a request has waited {days} days.")
    request.any_mentor = True
    session.add(request)
    session.flush()
    return request


@dataclass(frozen=True)
class QueueItem:
    request: FeedbackRequest
    update: Update
    project: Project
    learner: User
    owner_handle: str

    def waiting_days(self, now: datetime) -> int:
        return max(0, (now - self.request.created_at).days)


def _open_requests() -> Select:
    """Unanswered requests joined to what a queue row shows (one query, no lazy loads).

    ``queue_for`` and ``flagged`` differ only in which of these rows they keep, so
    the joins and the row shape (``QueueItem``) live here once.
    """
    owner = User.__table__.alias("owner")  # type: ignore[attr-defined]
    return (
        select(FeedbackRequest, Update, Project, User, owner.c.handle)
        .join(Update, Update.id == FeedbackRequest.update_id)
        .join(Project, Project.id == Update.project_id)
        .join(User, User.id == FeedbackRequest.learner_id)
        .join(owner, owner.c.id == Project.owner_id)
        .where(col(FeedbackRequest.answered_at).is_(None))
    )


def queue_for(session: Session, mentor: User, *, limit: int = 100) -> list[QueueItem]:
    """Open requests this mentor may answer, oldest first, in one query.

    Drafts reach only the learner's own mentors: other mentors cannot see them.
    """
    assigned = exists().where(
        MentorAssignment.mentor_id == mentor.id,
        MentorAssignment.learner_id == FeedbackRequest.learner_id,
        MentorAssignment.season_id == Project.season_id,
    )
    member = exists().where(
        ProjectMember.project_id == Project.id,
        ProjectMember.user_id == mentor.id,
        ProjectMember.status == MemberStatus.accepted,
    )
    rows = session.exec(
        _open_requests()
        .where(
            ~member,
            or_(
                assigned,
                and_(
                    col(FeedbackRequest.any_mentor).is_(True),
                    Project.visibility != Visibility.draft,
                ),
            ),
        )
        .order_by(col(FeedbackRequest.created_at), col(FeedbackRequest.id))
        .limit(limit)
    ).all()
    return [QueueItem(*row) for row in rows]


def flagged(session: Session, *, limit: int = 100) -> list[QueueItem]:
    """Unanswered requests already flagged, oldest first, for the admins' page."""
    rows = session.exec(
        _open_requests()
        .where(col(FeedbackRequest.flagged_at).is_not(None))
        .order_by(col(FeedbackRequest.created_at))
        .limit(limit)
    ).all()
    return [QueueItem(*row) for row in rows]


def flag_stale(session: Session, *, now: datetime, limits: Limits) -> int:
    """Flag requests unanswered too long: tell admins, and the learner they may ask anyone.

    Rows are locked with SKIP LOCKED (PostgreSQL) and the dedupe keys make a
    second scheduler harmless; one failing request is logged and skipped.
    """
    due = session.exec(
        select(FeedbackRequest)
        .where(
            col(FeedbackRequest.answered_at).is_(None),
            col(FeedbackRequest.flagged_at).is_(None),
            FeedbackRequest.created_at <= now - limits.feedback_flag_after,
        )
        .order_by(col(FeedbackRequest.created_at))
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        return 0
    admins = session.exec(
        select(User).where(User.role == Role.admin, col(User.suspended_at).is_(None))
    ).all()
    flagged_count = 0
    for request in due:
        try:
            with session.begin_nested():
                _flag_one(session, request, admins, now, limits)
            flagged_count += 1
        except Exception:
            logger.exception("cannot flag feedback request %s", request.id)
    return flagged_count


def _flag_one(
    session: Session, request: FeedbackRequest, admins: list[User], now: datetime, limits: Limits
) -> None:
    update = session.get(Update, request.update_id)
    project = session.get(Project, update.project_id) if update else None
    learner = session.get(User, request.learner_id)
    if update is None or project is None or learner is None:
        return
    owner = session.get(User, project.owner_id)
    base = current_app.config["BASE_URL"]
    url = f"{base}/u/{owner.handle if owner else learner.handle}/{project.slug}#update-{update.id}"
    days = limits.feedback_flag_after.days
    request.flagged_at = now
    session.add(request)
    for admin in admins:
        notify(
            session,
            user=admin,
            kind="feedback_flagged",
            category="feedback",
            title=f"Feedback request by @{learner.handle} unanswered for {days} days",
            body=f"{project.title}: nobody has answered yet.",
            url=f"{base}/admin/reports",
            payload={"feedback_request_id": request.id, "project_id": project.id},
            dedupe_key=f"feedback_flagged:{request.id}:{admin.id}",
            now=now,
        )
    if not request.any_mentor:
        notify(
            session,
            user=learner,
            kind="feedback_waiting",
            category="feedback",
            title=f"No answer yet on {project.title}: you can ask any mentor",
            body=f"Your request has waited {days} days. Open it to every mentor from the update.",
            url=url,
            payload={"feedback_request_id": request.id, "project_id": project.id},
            dedupe_key=f"feedback_waiting:{request.id}",
            now=now,
        )
    session.flush()
