"""Who hears of a new comment, and how: one notification per person per comment.

Priority decides the single notification a person gets when several reasons
apply: a feedback answer beats a mention, a mention beats "someone answered
you", and that beats "new comment on your project". Nobody is told of their
own action, suspended accounts are skipped, and a person who may not see the
project (a draft, say) is never told about it. Dedupe keys make an edit that
keeps a mention harmless: only newly mentioned people hear of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlmodel import Session, col, select

from ..auth import service as accounts
from ..models import Comment, FeedbackRequest, Project, User
from ..notify.service import notify
from ..projects import access


@dataclass(frozen=True)
class Mentions:
    """What became of the @handles in a text: who was told, who was not."""

    notified: list[str]
    skipped: list[str]  # unknown handles, or people who cannot see the project


def comment_url(project: Project, comment: Comment, session: Session) -> str:
    """An absolute permalink that works outside a request (jobs, emails)."""
    owner = session.get(User, project.owner_id)
    assert owner is not None
    base = current_app.config["BASE_URL"]
    return f"{base}/u/{owner.handle}/{project.slug}/comments/{comment.id}#comment-{comment.id}"


def excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def resolve_mentions(
    session: Session, project: Project, handles: list[str], actor: User
) -> tuple[list[User], list[str]]:
    """Users behind the handles who may see the project; the rest are skipped."""
    if not handles:
        return [], []
    found = {
        u.handle: u for u in session.exec(select(User).where(col(User.handle).in_(handles))).all()
    }
    users, skipped = [], []
    for handle in handles:
        user = found.get(handle)
        if user is not None and user.id == actor.id:
            continue  # mentioning yourself is harmless and tells nobody
        if user is None or user.suspended_at or not access.can_view(session, project, user):
            skipped.append(handle)
        else:
            users.append(user)
    return users, skipped


def comment_posted(
    session: Session,
    *,
    project: Project,
    comment: Comment,
    actor: User,
    parent: Comment | None,
    mentioned: list[User],
    answered: FeedbackRequest | None,
    now: datetime,
) -> None:
    """Notify the learner of a feedback answer, mentioned people, the parent's author, members."""
    url = comment_url(project, comment, session)
    body = excerpt(comment.body_md)
    who = actor.display_name
    plan: dict[int, tuple[User, str, str, str]] = {}

    def add(user: User | None, kind: str, category: str, title: str) -> None:
        if user is None or user.id == actor.id or user.id in plan or user.suspended_at:
            return
        plan[user.id] = (user, kind, category, title)

    if answered is not None:
        add(
            session.get(User, answered.learner_id),
            "feedback_answered",
            "feedback",
            f"{who} answered your feedback request on {project.title}",
        )
    for user in mentioned:
        add(user, "mention", "mentions", f"{who} mentioned you on {project.title}")
    if parent is not None:
        author = session.get(User, parent.author_id)
        if author is not None and access.can_view(session, project, author):
            add(author, "reply", "mentions", f"{who} replied to your comment on {project.title}")
    noun = "reply" if parent is not None else "comment"
    for member_id in access.member_ids(session, project.id):
        add(
            accounts.get_user(session, member_id),
            "comment",
            "comments",
            f"New {noun} by {who} on {project.title}",
        )
    for user, kind, category, title in plan.values():
        notify(
            session,
            user=user,
            kind=kind,
            category=category,
            title=title,
            body=body,
            url=url,
            payload={"project_id": project.id, "comment_id": comment.id},
            dedupe_key=f"{kind}:{comment.id}:{user.id}",
            now=now,
        )


def mentions_added(
    session: Session, *, project: Project, comment: Comment, actor: User, mentioned: list[User]
) -> None:
    """After an edit: tell people newly mentioned (the dedupe key skips earlier ones)."""
    url = comment_url(project, comment, session)
    for user in mentioned:
        if user.id == actor.id:
            continue
        notify(
            session,
            user=user,
            kind="mention",
            category="mentions",
            title=f"{actor.display_name} mentioned you on {project.title}",
            body=excerpt(comment.body_md),
            url=url,
            payload={"project_id": project.id, "comment_id": comment.id},
            dedupe_key=f"mention:{comment.id}:{user.id}",
        )
