"""Comments: the rules for posting, editing and deleting them, and who may comment.

Every write bumps the project's cache version in one atomic UPDATE (never a
read-modify-write, which two concurrent writers would both turn into the
same number, leaving one comment out of a cached page). Updates, and
comments by members, also count as activity for cadence health.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from ..auth.rules import ValidationError, require_verified
from ..errors import Conflict, Forbidden, NotFound
from ..models import Comment, Project, Update, User
from ..notify import retract
from ..page_version import bump_version
from ..projects import access
from . import fanout, feedback
from .rules import (
    MAX_COMMENT_CHARS,
    Limits,
    check_body,
    check_policy,
    comment_refusal,
    count_links,
    is_new_account,
    mentioned_handles,
    require_active,
)

logger = logging.getLogger(__name__)

# Ids are 32-bit on PostgreSQL; a larger number would be a database error, not a 404.
MAX_ID = 2_147_483_647


def touch(session: Session, project_id: int, *, now: datetime, activity: bool) -> None:
    """Bump the page cache version atomically; with `activity`, feed cadence health too."""
    if activity:
        bump_version(session, project_id, last_activity_at=now)
    else:
        bump_version(session, project_id)


def parse_id(value: str | int | None, *, field: str, label: str) -> int | None:
    """An optional id from a form field; anything but digits is refused clearly."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > MAX_ID:
        raise ValidationError(f"{label} is not valid.", field=field)
    return int(text)


def get_update(session: Session, project: Project, update_id: int) -> Update:
    update = session.get(Update, update_id)
    if update is None or update.project_id != project.id:
        raise NotFound("There is no such update on this project.")
    return update


# Comments ------------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    comment: Comment
    mentions: fanout.Mentions
    answered: bool


def get_comment(session: Session, project: Project, comment_id: int) -> Comment:
    comment = session.get(Comment, comment_id)
    if comment is None or comment.project_id != project.id:
        raise NotFound("There is no such comment on this project.")
    return comment


def _check_new_account(
    session: Session, user: User, body: str, now: datetime, limits: Limits
) -> None:
    """Discourse-style trust limits: few comments and few links in the first hours."""
    if not is_new_account(user, now, limits):
        return
    hours = int(limits.new_account_age.total_seconds() // 3600)
    links = count_links(body)
    if links > limits.new_account_max_links:
        raise ValidationError(
            f"New accounts can include at most {limits.new_account_max_links} links per comment "
            f"during their first {hours} hours (this one has {links}).",
            field="body",
        )
    posted = session.exec(
        select(func.count()).select_from(Comment).where(Comment.author_id == user.id)
    ).one()
    if posted >= limits.new_account_max_comments:
        raise Forbidden(
            f"New accounts can post {limits.new_account_max_comments} comments during their "
            f"first {hours} hours. Thank you for joining in; please come back a little later."
        )


def _target(
    session: Session, project: Project, update_id: int | None, parent_id: int | None
) -> tuple[int | None, Comment | None]:
    """Resolve what is being answered: the project, an update, or a top-level comment."""
    if parent_id is not None:
        parent = get_comment(session, project, parent_id)
        if parent.parent_id is not None:
            raise ValidationError(
                "Replies go one level deep: answer the first comment of the thread instead.",
                field="parent_id",
            )
        if parent.deleted_at is not None or parent.hidden_at is not None:
            raise Conflict("That comment was deleted or hidden, so it cannot be answered.")
        if update_id is not None and update_id != parent.update_id:
            raise ValidationError("That reply does not match its thread.", field="parent_id")
        return parent.update_id, parent
    if update_id is not None:
        get_update(session, project, update_id)
    return update_id, None


def post_comment(
    session: Session,
    *,
    project: Project,
    author: User,
    body: str,
    update_id: int | None = None,
    parent_id: int | None = None,
    now: datetime,
    limits: Limits,
) -> Posted:
    """Comment on the project or an update, or reply to a top-level comment."""
    require_active(author)
    require_verified(author, "comment")
    refusal = comment_refusal(session, project, author)
    if refusal is not None:
        if not access.can_view(session, project, author):
            raise NotFound(refusal)
        raise Forbidden(refusal)
    body = check_body(body, label="The comment", max_len=MAX_COMMENT_CHARS)
    update_id, parent = _target(session, project, update_id, parent_id)
    _check_new_account(session, author, body, now, limits)
    comment = Comment(
        project_id=project.id,
        update_id=update_id,
        parent_id=parent.id if parent else None,
        author_id=author.id,
        body_md=body,
        created_at=now,
    )
    session.add(comment)
    session.flush()
    answered = None
    if update_id is not None:
        answered = feedback.answer_if_mentor(
            session, update_id=update_id, project=project, commenter=author, now=now
        )
    handles = mentioned_handles(body)
    mentioned, skipped = fanout.resolve_mentions(session, project, handles, author)
    fanout.comment_posted(
        session,
        project=project,
        comment=comment,
        actor=author,
        parent=parent,
        mentioned=mentioned,
        answered=answered,
        now=now,
    )
    touch(session, project.id, now=now, activity=access.is_member(session, project, author))
    return Posted(
        comment, fanout.Mentions([u.handle for u in mentioned], skipped), answered is not None
    )


def can_edit_comment(comment: Comment, user: User | None, now: datetime, limits: Limits) -> bool:
    return (
        user is not None
        and user.is_authenticated
        and comment.author_id == user.id
        and comment.deleted_at is None
        and comment.hidden_at is None
        and now - comment.created_at <= limits.edit_window
    )


def edit_comment(
    session: Session,
    *,
    project: Project,
    comment: Comment,
    actor: User,
    body: str,
    now: datetime,
    limits: Limits,
) -> fanout.Mentions:
    """The author may edit within the window; people newly mentioned are told."""
    require_active(actor)
    if comment.author_id != actor.id:
        raise Forbidden("You can only edit your own comments.")
    if comment.deleted_at is not None or comment.hidden_at is not None:
        raise Conflict("This comment was deleted or hidden and cannot be edited.")
    if now - comment.created_at > limits.edit_window:
        minutes = int(limits.edit_window.total_seconds() // 60)
        raise Conflict(f"Comments can be edited for {minutes} minutes after posting.")
    body = check_body(body, label="The comment", max_len=MAX_COMMENT_CHARS)
    if is_new_account(actor, now, limits) and count_links(body) > limits.new_account_max_links:
        raise ValidationError(
            f"New accounts can include at most {limits.new_account_max_links} links per comment.",
            field="body",
        )
    comment.body_md, comment.edited_at = body, now
    session.add(comment)
    session.flush()
    mentioned, skipped = fanout.resolve_mentions(session, project, mentioned_handles(body), actor)
    fanout.mentions_added(
        session, project=project, comment=comment, actor=actor, mentioned=mentioned
    )
    touch(session, project.id, now=now, activity=False)
    return fanout.Mentions([u.handle for u in mentioned], skipped)


def delete_comment(
    session: Session, *, project: Project, comment: Comment, actor: User, now: datetime
) -> None:
    """Authors delete their own comments; replies stay readable under a placeholder."""
    if comment.author_id != actor.id:
        raise Forbidden("You can only delete your own comments.")
    if comment.deleted_at is not None:
        return
    comment.deleted_at = now
    session.add(comment)
    session.flush()
    retract.retract(session, comment.id, placeholder=retract.REMOVED)
    touch(session, project.id, now=now, activity=False)


def set_policy(
    session: Session, *, project: Project, actor: User, policy: str, now: datetime
) -> Project:
    """Members (and admins) choose who may comment on their project."""
    if not access.can_edit(session, project, actor):
        raise Forbidden("Only project members can change who may comment.")
    project.comment_policy = check_policy(policy).value
    session.add(project)
    session.flush()
    touch(session, project.id, now=now, activity=False)
    return project
