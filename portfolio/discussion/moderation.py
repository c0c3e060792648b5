"""Moderation: hiding, reporting, removing comments and suspending accounts.

Hiding is for the people around a project (members, their mentors, admins)
and can be undone; the text stays for admins. Reports go to admins, who can
remove a comment (it stays in the database, shown as removed) or dismiss the
reports, and suspend an account. Suspension also rotates the login id, which
ends every session the person has open.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update as sql_update
from sqlmodel import Session, col, select

from ..auth import email_links, sessions
from ..auth.rules import ValidationError
from ..db import insert_for
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..models import Comment, CommentReport, Project, TokenPurpose, User
from ..notify import retract
from .fanout import excerpt
from .rules import MAX_REASON_CHARS, is_moderator, require_active
from .service import touch

ALREADY_REPORTED = "You already reported this comment. Thank you; an admin will look at it."

logger = logging.getLogger(__name__)


def hide(session: Session, *, project: Project, comment: Comment, actor: User, now: datetime):
    """Hide a comment from everyone but admins ("hidden by a moderator")."""
    if not is_moderator(session, project, actor):
        raise Forbidden("Only members, their mentors and admins can hide comments here.")
    if comment.deleted_at is not None:
        raise Conflict("This comment was already deleted.")
    if comment.hidden_at is None:
        comment.hidden_at, comment.hidden_by_id = now, actor.id
        session.add(comment)
        session.flush()
        retract.retract(session, comment.id, placeholder=retract.HIDDEN)
        touch(session, project.id, now=now, activity=False)
    logger.info("comment hidden", extra={"comment_id": comment.id, "actor_id": actor.id})


def unhide(session: Session, *, project: Project, comment: Comment, actor: User, now: datetime):
    if not is_moderator(session, project, actor):
        raise Forbidden("Only members, their mentors and admins can show hidden comments.")
    if comment.deleted_at is not None:
        raise Conflict("This comment was deleted and cannot be shown again.")
    if comment.hidden_at is not None:
        comment.hidden_at, comment.hidden_by_id = None, None
        session.add(comment)
        session.flush()
        retract.restore(session, comment.id, excerpt=excerpt(comment.body_md))
        touch(session, project.id, now=now, activity=False)


def report(
    session: Session, *, comment: Comment, actor: User, reason: str, now: datetime
) -> CommentReport:
    """Anyone signed in may report a comment once; admins see it on /admin/reports."""
    require_active(actor)
    if comment.author_id == actor.id:
        raise DomainError("You cannot report your own comment; delete it instead.")
    if comment.deleted_at is not None:
        raise Conflict("This comment was already removed.")
    reason = (reason or "").replace("\x00", "").strip()
    if len(reason) > MAX_REASON_CHARS:
        raise ValidationError(
            f"Keep the reason under {MAX_REASON_CHARS} characters.", field="reason"
        )
    exists = session.exec(
        select(CommentReport.id).where(
            CommentReport.comment_id == comment.id, CommentReport.reporter_id == actor.id
        )
    ).first()
    if exists is not None:
        raise Conflict(ALREADY_REPORTED)
    # ON CONFLICT DO NOTHING: a concurrent double submit that passed the check
    # above writes nothing and gets the same answer, with the transaction intact.
    table = CommentReport.__table__  # type: ignore[attr-defined]
    new_id = session.execute(
        insert_for(session, table)
        .values(
            comment_id=comment.id,
            reporter_id=actor.id,
            reason=reason,
            created_at=now,
            status="open",
        )
        .on_conflict_do_nothing(index_elements=["comment_id", "reporter_id"])
        .returning(table.c.id)
    ).scalar_one_or_none()
    if new_id is None:
        raise Conflict(ALREADY_REPORTED)
    item = session.get(CommentReport, new_id)
    assert item is not None
    return item


def _resolve_reports(session: Session, comment_id: int, status: str, now: datetime) -> int:
    result = session.execute(
        sql_update(CommentReport)
        .where(CommentReport.comment_id == comment_id, CommentReport.status == "open")
        .values(status=status, resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined]


def _admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden("Only admins can do that.")


def remove(session: Session, *, comment_id: int, actor: User, now: datetime) -> Comment:
    """An admin removes a comment: shown as removed to all, its open reports resolved."""
    _admin(actor)
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFound("There is no such comment.")
    if comment.deleted_at is None:
        comment.deleted_at = now
    comment.hidden_at, comment.hidden_by_id = comment.hidden_at or now, actor.id
    session.add(comment)
    session.flush()
    retract.retract(session, comment.id, placeholder=retract.REMOVED)
    _resolve_reports(session, comment.id, "removed", now)
    touch(session, comment.project_id, now=now, activity=False)
    logger.info("comment removed", extra={"comment_id": comment.id, "actor_id": actor.id})
    return comment


def dismiss(session: Session, *, comment_id: int, actor: User, now: datetime) -> int:
    """An admin finds nothing wrong: the comment's open reports are closed."""
    _admin(actor)
    if session.get(Comment, comment_id) is None:
        raise NotFound("There is no such comment.")
    return _resolve_reports(session, comment_id, "dismissed", now)


def suspend(session: Session, *, user_id: int, actor: User, now: datetime) -> User:
    """Suspend an account: no log-in, no posting, and open sessions end now."""
    _admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("There is no such account.")
    if user.id == actor.id:
        raise DomainError("You cannot suspend yourself.")
    if user.is_admin:
        raise DomainError("Admins cannot be suspended; change their role first.")
    if user.suspended_at is None:
        user.suspended_at = now
        session.add(user)
        sessions.end_others(session, user.id, keep=None)
        for purpose in (TokenPurpose.reset, TokenPurpose.email_change):
            email_links.revoke(session, user.id, purpose)
        session.flush()
    logger.info("account suspended", extra={"user_id": user.id, "actor_id": actor.id})
    return user


def unsuspend(session: Session, *, user_id: int, actor: User) -> User:
    _admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("There is no such account.")
    user.suspended_at = None
    session.add(user)
    session.flush()
    return user


@dataclass
class ReportedComment:
    """One reported comment with every open report about it."""

    comment: Comment
    author: User
    project: Project
    owner_handle: str
    reports: list[tuple[CommentReport, User]] = field(default_factory=list)


def open_reports(session: Session, *, limit: int = 200) -> list[ReportedComment]:
    """Open reports grouped by comment, the most reported first, then the oldest."""
    reporter = User.__table__.alias("reporter")  # type: ignore[attr-defined]
    rows = session.exec(
        select(CommentReport, Comment, Project, reporter.c.id)
        .join(Comment, Comment.id == CommentReport.comment_id)
        .join(Project, Project.id == Comment.project_id)
        .join(reporter, reporter.c.id == CommentReport.reporter_id)
        .where(CommentReport.status == "open")
        .order_by(col(CommentReport.created_at))
        .limit(limit)
    ).all()
    user_ids = {c.author_id for _, c, _, _ in rows} | {rid for *_, rid in rows}
    user_ids |= {p.owner_id for _, _, p, _ in rows}
    users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(user_ids))).all()}
    grouped: dict[int, ReportedComment] = {}
    for item, comment, project, reporter_id in rows:
        entry = grouped.get(comment.id)
        if entry is None:
            entry = grouped[comment.id] = ReportedComment(
                comment, users[comment.author_id], project, users[project.owner_id].handle
            )
        entry.reports.append((item, users[reporter_id]))
    return sorted(grouped.values(), key=lambda e: (-len(e.reports), e.reports[0][0].created_at))


def suspended_users(session: Session) -> list[User]:
    return list(
        session.exec(
            select(User)
            .where(col(User.suspended_at).is_not(None))
            .order_by(col(User.suspended_at).desc())
        ).all()
    )
