"""Progress updates: a member's devlog entries, tied to a milestone and runs.

An update is activity for cadence health (the "no update for 14 days" rule
reads Project.last_activity_at) and bumps the page's cache version.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session, col, select

from ..auth.rules import ValidationError, require_verified
from ..errors import Forbidden
from ..models import LinkKind, Milestone, Project, RunLink, Update, User
from ..projects import access
from . import feedback
from .rules import MAX_UPDATE_CHARS, check_body, require_active
from .service import get_update, touch

__all__ = ["edit_update", "get_update", "post_update", "public_updates"]

logger = logging.getLogger(__name__)


def _check_refs(
    session: Session, project: Project, milestone_id: int | None, run_link_ids: list[int]
) -> list[int]:
    """The milestone and runs an update points to must belong to this project."""
    if milestone_id is not None:
        milestone = session.get(Milestone, milestone_id)
        if milestone is None or milestone.project_id != project.id:
            raise ValidationError("Choose one of this project's milestones.", field="milestone_id")
    ids = sorted(set(run_link_ids))
    if len(ids) > 20:
        raise ValidationError("Link at most 20 runs to one update.", field="run_link_ids")
    if ids:
        found = set(
            session.exec(
                select(RunLink.id).where(
                    col(RunLink.id).in_(ids),
                    RunLink.project_id == project.id,
                    RunLink.kind == LinkKind.run,
                )
            ).all()
        )
        if found != set(ids):
            raise ValidationError("Choose runs linked to this project.", field="run_link_ids")
    return ids


def post_update(
    session: Session,
    *,
    project: Project,
    author: User,
    body: str,
    milestone_id: int | None = None,
    run_link_ids: list[int] | None = None,
    ask_feedback: bool = False,
    any_mentor: bool = False,
    now: datetime,
) -> Update:
    """A member's devlog entry, optionally asking mentors for feedback on it."""
    require_active(author)
    require_verified(author, "post updates")
    if not access.is_member(session, project, author):
        raise Forbidden("Only project members can post updates.")
    body = check_body(body, label="The update", max_len=MAX_UPDATE_CHARS)
    runs = _check_refs(session, project, milestone_id, run_link_ids or [])
    update = Update(
        project_id=project.id,
        author_id=author.id,
        body_md=body,
        milestone_id=milestone_id,
        run_link_ids=runs,
        created_at=now,
    )
    session.add(update)
    session.flush()
    if ask_feedback:
        feedback.ask(session, update=update, actor=author, any_mentor=any_mentor, now=now)
    touch(session, project.id, now=now, activity=True)
    logger.info("update posted", extra={"project_id": project.id, "update_id": update.id})
    return update


def edit_update(
    session: Session,
    *,
    project: Project,
    update: Update,
    actor: User,
    body: str,
    milestone_id: int | None,
    run_link_ids: list[int],
    now: datetime,
) -> Update:
    """Authors may correct their updates at any time; the page says "edited"."""
    require_active(actor)
    if update.author_id != actor.id:
        raise Forbidden("You can only edit your own updates.")
    body = check_body(body, label="The update", max_len=MAX_UPDATE_CHARS)
    update.run_link_ids = _check_refs(session, project, milestone_id, run_link_ids)
    update.body_md, update.milestone_id, update.edited_at = body, milestone_id, now
    session.add(update)
    session.flush()
    touch(session, project.id, now=now, activity=True)
    return update


def public_updates(session: Session, project_ids: list[int], *, limit: int = 50):
    """(Update, Project) pairs of the given projects, newest first, for feeds."""
    if not project_ids:
        return []
    return list(
        session.exec(
            select(Update, Project)
            .join(Project, Project.id == Update.project_id)
            .where(col(Update.project_id).in_(project_ids))
            .order_by(col(Update.created_at).desc())
            .limit(limit)
        ).all()
    )
