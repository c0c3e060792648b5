"""What a viewer sees of a project's updates and comments, in a few queries per page.

Threads are ordered by their newest activity (the latest reply, or the
comment itself); replies read oldest first under their comment. A deleted
comment with live replies stays as a placeholder so the replies keep their
context; one without them is left out. Hidden comments read "hidden by a
moderator" to everyone but admins.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import exists, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from ..models import (
    Comment,
    CommentReport,
    FeedbackRequest,
    Milestone,
    Project,
    RunLink,
    RunSnapshot,
    Update,
    User,
)
from ..projects import access
from .feedback import can_reopen
from .render import rendered
from .rules import Limits, comment_refusal, is_moderator
from .service import can_edit_comment

ROLE_MARKS = {"mentor": "Mentor", "admin": "Admin"}


@dataclass(frozen=True)
class Viewer:
    """The signed-in person looking (or nobody), with what they may do here."""

    user: User | None
    is_admin: bool = False
    is_member: bool = False
    is_moderator: bool = False
    refusal: str | None = "Log in to join the discussion."
    reported: frozenset[int] = frozenset()

    @property
    def can_comment(self) -> bool:
        return self.refusal is None


def viewer_for(session: Session, project: Project, user: User | None) -> Viewer:
    if user is None or not user.is_authenticated:
        return Viewer(None)
    return Viewer(
        user,
        is_admin=user.is_admin,
        is_member=access.is_member(session, project, user),
        is_moderator=is_moderator(session, project, user),
        refusal=comment_refusal(session, project, user),
    )


@dataclass
class CommentView:
    comment: Comment
    author: User
    state: str  # visible | hidden | deleted | removed
    html: Markup | None  # None when this viewer may not read the text
    mark: str | None  # "Mentor" or "Admin"
    replies: list[CommentView] = field(default_factory=list)
    can_edit: bool = False
    can_delete: bool = False
    can_hide: bool = False
    can_unhide: bool = False
    can_report: bool = False
    reported: bool = False

    @property
    def anchor(self) -> str:
        return f"comment-{self.comment.id}"


@dataclass
class UpdateView:
    update: Update
    author: User
    html: Markup
    milestone: Milestone | None
    runs: list[tuple[str, str]]  # (label, url)
    threads: list[CommentView]
    request: FeedbackRequest | None
    can_edit: bool = False
    can_ask: bool = False
    can_reopen: bool = False

    @property
    def anchor(self) -> str:
        return f"update-{self.update.id}"


def _state(comment: Comment) -> str:
    if comment.deleted_at is not None:
        return "removed" if comment.hidden_by_id is not None else "deleted"
    return "hidden" if comment.hidden_at is not None else "visible"


def _view(
    comment: Comment,
    users: dict[int, User],
    viewer: Viewer,
    now: datetime,
    limits: Limits,
    html: dict[tuple[str, int], Markup],
) -> CommentView:
    author = users[comment.author_id]
    state = _state(comment)
    readable = state == "visible" or (state == "hidden" and viewer.is_admin)
    user = viewer.user
    own = user is not None and comment.author_id == user.id
    return CommentView(
        comment=comment,
        author=author,
        state=state,
        html=html.get(("c", comment.id)) if readable else None,
        mark=ROLE_MARKS.get(str(author.role)),
        can_edit=can_edit_comment(comment, user, now, limits),
        can_delete=own and state != "deleted" and state != "removed",
        can_hide=viewer.is_moderator and state == "visible",
        can_unhide=viewer.is_moderator and state == "hidden",
        can_report=user is not None and not own and state == "visible",
        reported=comment.id in viewer.reported,
    )


def _activity_order(project_id: int):
    """Top-level comments of a project by newest activity; deleted ones need live replies."""
    reply = aliased(Comment)
    last = (
        select(func.max(reply.created_at))
        .where(reply.parent_id == Comment.id)
        .correlate(Comment)
        .scalar_subquery()
    )
    live = exists().where(reply.parent_id == Comment.id, col(reply.deleted_at).is_(None))
    query = select(Comment).where(
        Comment.project_id == project_id,
        col(Comment.parent_id).is_(None),
        or_(col(Comment.deleted_at).is_(None), live),
    )
    return query.order_by(func.coalesce(last, Comment.created_at).desc(), col(Comment.id).desc())


def build_threads(
    session: Session, roots: list[Comment], viewer: Viewer, now: datetime, limits: Limits
) -> list[CommentView]:
    """Views of top-level comments with their replies (deleted replies left out)."""
    if not roots:
        return []
    replies = session.exec(
        select(Comment)
        .where(col(Comment.parent_id).in_([c.id for c in roots]), col(Comment.deleted_at).is_(None))
        .order_by(col(Comment.created_at), col(Comment.id))
    ).all()
    everyone = [*roots, *replies]
    author_ids = {c.author_id for c in everyone}
    users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(author_ids)))}
    if viewer.user is not None:
        viewer = replace(viewer, reported=_reported(session, viewer.user, everyone))
    html = rendered(
        [
            ("c", c.id, c.body_md)
            for c in everyone
            if c.deleted_at is None and (c.hidden_at is None or viewer.is_admin)
        ]
    )
    views = {c.id: _view(c, users, viewer, now, limits, html) for c in roots}
    for reply in replies:
        views[reply.parent_id].replies.append(_view(reply, users, viewer, now, limits, html))
    return [views[c.id] for c in roots]


def _reported(session: Session, user: User, comments: list[Comment]) -> frozenset[int]:
    ids = [c.id for c in comments]
    return frozenset(
        session.exec(
            select(CommentReport.comment_id).where(
                CommentReport.reporter_id == user.id, col(CommentReport.comment_id).in_(ids)
            )
        ).all()
    )


def project_threads(
    session: Session,
    project: Project,
    viewer: Viewer,
    *,
    now: datetime,
    limits: Limits,
    offset: int = 0,
    limit: int = 30,
) -> tuple[list[CommentView], bool]:
    """Comments on the project itself (not on updates); the bool says more follow."""
    roots = session.exec(
        _activity_order(project.id)
        .where(col(Comment.update_id).is_(None))
        .offset(offset)
        .limit(limit + 1)
    ).all()
    return build_threads(session, list(roots[:limit]), viewer, now, limits), len(roots) > limit


def updates(
    session: Session,
    project: Project,
    viewer: Viewer,
    *,
    now: datetime,
    limits: Limits,
    offset: int = 0,
    limit: int = 10,
) -> tuple[list[UpdateView], bool]:
    """Updates newest first, each with its milestone, runs, request and threads."""
    rows = session.exec(
        select(Update)
        .where(Update.project_id == project.id)
        .order_by(col(Update.created_at).desc(), col(Update.id).desc())
        .offset(offset)
        .limit(limit + 1)
    ).all()
    page = list(rows[:limit])
    if not page:
        return [], False
    ids = [u.id for u in page]
    roots = session.exec(_activity_order(project.id).where(col(Comment.update_id).in_(ids))).all()
    threads = build_threads(session, list(roots), viewer, now, limits)
    by_update: dict[int, list[CommentView]] = {}
    for thread in threads:
        by_update.setdefault(thread.comment.update_id, []).append(thread)
    authors = {
        u.id: u
        for u in session.exec(select(User).where(col(User.id).in_({u.author_id for u in page})))
    }
    requests = {
        r.update_id: r
        for r in session.exec(
            select(FeedbackRequest).where(col(FeedbackRequest.update_id).in_(ids))
        ).all()
    }
    milestones = {
        m.id: m
        for m in session.exec(select(Milestone).where(Milestone.project_id == project.id)).all()
    }
    runs = _run_labels(session, project, viewer, {i for u in page for i in u.run_link_ids})
    html = rendered([("u", u.id, u.body_md) for u in page])
    user = viewer.user
    views = []
    for update in page:
        request = requests.get(update.id)
        own = user is not None and update.author_id == user.id
        views.append(
            UpdateView(
                update=update,
                author=authors[update.author_id],
                html=html[("u", update.id)],
                milestone=milestones.get(update.milestone_id) if update.milestone_id else None,
                runs=[runs[i] for i in update.run_link_ids if i in runs],
                threads=by_update.get(update.id, []),
                request=request,
                can_edit=own,
                can_ask=own and request is None,
                can_reopen=own and request is not None and can_reopen(request, now, limits),
            )
        )
    return views, len(rows) > limit


def _run_labels(
    session: Session, project: Project, viewer: Viewer, ids: set[int]
) -> dict[int, tuple[str, str]]:
    """Labels and links of the runs updates point to; hidden runs only for members."""
    if not ids:
        return {}
    query = (
        select(RunLink, RunSnapshot)
        .outerjoin(RunSnapshot, RunSnapshot.id == RunLink.current_snapshot_id)
        .where(col(RunLink.id).in_(ids), RunLink.project_id == project.id)
    )
    if not viewer.is_member:
        query = query.where(col(RunLink.hidden).is_(False))
    labels = {}
    for link, snap in session.exec(query).all():
        name = link.label or (snap.name if snap else "") or link.ref
        labels[link.id] = (name, snap.url if snap else "")
    return labels


def thread_of(
    session: Session,
    project: Project,
    comment: Comment,
    viewer: Viewer,
    *,
    now: datetime,
    limits: Limits,
) -> tuple[CommentView, Update | None]:
    """The whole thread a comment belongs to (for its permalink page)."""
    root = session.get(Comment, comment.parent_id) if comment.parent_id else comment
    assert root is not None
    [view] = build_threads(session, [root], viewer, now, limits)
    update = session.get(Update, root.update_id) if root.update_id else None
    return view, update
