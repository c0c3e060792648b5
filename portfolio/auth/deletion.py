"""Delete an account and everything that is the person's, at their request or an admin's.

What happens to each kind of data (docs/accounts.md tells users the same):

- Projects they own are deleted with everything in them (milestones, runs,
  snapshots, metric series, images, updates, comments) — unless it is a team
  project with another accepted member: then it is handed over to the
  longest-standing one, so a teammate's work is never deleted with someone
  else's account. Team projects they do not own just lose them as a member.
- Their comments elsewhere are removed entirely, except a top-level comment
  others replied to: it stays as a text-less "deleted" placeholder, owned by
  the shared placeholder account, so the replies keep their thread.
- Their updates, feedback requests, reports, notifications, emails (sent or
  not), tokens, W&B keys, calendar links, preferences, enrollments and
  mentor assignments (either side) are deleted; notifications other people
  got about their comments, feedback requests or deleted projects go too.
- Their profile (bio, avatar photo, links, "looking for" line) goes with the
  account row; the photo's bytes are deleted from the storage backend.
- Every other column that points at them (who hid a comment, who invited
  whom, who uploaded an image) is cleared. The sweep walks every foreign key
  to users.id, so a table added later is covered without changing this file.
- The handle stays reserved (auth.handles); an admin's deletion is written
  to the admin log with the reason. The last admin cannot be deleted.

Public pages 404 at once: the page cache reads each project's stamp from the
database on every request, and a deleted project has none; handed-over and
team projects get a new version, so no cached copy names the person.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, exists, func, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from ..errors import DomainError, Forbidden
from ..models import (
    AdminLogEntry,
    Comment,
    FeedbackRequest,
    MemberStatus,
    OfflineImport,
    Project,
    ProjectMember,
    ProjectSlug,
    Role,
    User,
)
from ..page_version import bump_versions
from ..projects import images
from ..projects.service import unique_slug
from ..storage import get_storage
from . import erasure, handles, rules
from .passwords import verify_password
from .profile import avatar_key
from .service import count_admins

logger = logging.getLogger(__name__)

# The author of comments kept as placeholders; its handle breaks the handle rules
# (an underscore), so no one can sign up as it.
PLACEHOLDER_HANDLE = "deleted_user"
MAX_REASON = 500


@dataclass
class Deleted:
    """What a deletion did, for the confirmation message and the log."""

    handle: str
    projects_deleted: int = 0
    handed_over: list[tuple[str, str]] = field(default_factory=list)  # (title, new owner)
    comments_kept: int = 0

    def describe(self) -> str:
        """One sentence for the admin who deleted the account."""
        parts = [f"{self.projects_deleted} project(s) deleted"]
        parts += [f"“{title}” handed over to @{heir}" for title, heir in self.handed_over]
        return f"The account @{self.handle} is deleted: {', '.join(parts)}."


def confirm(user: User, *, password: str, handle: str) -> None:
    """Check the person's password and typed handle; raises before anything is touched."""
    if not verify_password(user.password_hash, password or ""):
        raise rules.ValidationError("Your password is not right.", field="password")
    if (handle or "").strip().lstrip("@").lower() != user.handle:
        raise rules.ValidationError(
            f"Type your handle, {user.handle}, to confirm.", field="confirm_handle"
        )


def delete_by_admin(
    session: Session, *, actor: User, user_id: int, reason: str, now: datetime
) -> Deleted:
    """An admin deletes someone's account; the reason goes into the admin log."""
    if not actor.is_admin:
        raise Forbidden("Only admins can delete other people's accounts.")
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise rules.ValidationError("Say why the account is deleted.", field="reason")
    if len(reason) > MAX_REASON:
        raise rules.ValidationError(
            f"Keep the reason under {MAX_REASON} characters.", field="reason"
        )
    user = session.get(User, user_id)
    if user is None or user.handle == PLACEHOLDER_HANDLE:
        raise DomainError("There is no such account.")
    if user.id == actor.id:
        raise DomainError("Delete your own account from your settings.")
    session.add(
        AdminLogEntry(
            actor_id=actor.id,
            action="account.delete",
            subject=f"@{user.handle}",
            reason=reason,
            created_at=now,
        )
    )
    return delete_account(session, user, now=now)


def admin_log(session: Session, *, limit: int = 50) -> list[tuple[AdminLogEntry, str]]:
    """The newest admin log entries with the acting admin's handle ("" once deleted)."""
    rows = session.exec(
        select(AdminLogEntry, User.handle)
        .outerjoin(User, col(User.id) == AdminLogEntry.actor_id)
        .order_by(col(AdminLogEntry.id).desc())
        .limit(limit)
    ).all()
    return [(entry, handle or "") for entry, handle in rows]


def delete_account(session: Session, user: User, *, now: datetime) -> Deleted:
    """Delete the account and the person's data (see the module docstring)."""
    assert user.id is not None
    if user.role == Role.admin and count_admins(session) <= 1:
        raise DomainError("The last admin cannot be deleted. Make someone else an admin first.")
    uid, done, avatar = user.id, Deleted(user.handle), user.avatar
    _member_projects_changed(session, uid)
    doomed: list[Project] = []
    for project in session.exec(select(Project).where(Project.owner_id == uid)).all():
        heir = _heir(session, project, uid)
        if heir is None:
            doomed.append(project)
        else:
            _hand_over(session, project, heir)
            done.handed_over.append((project.title, heir.handle))
    _delete_projects(session, doomed)
    done.projects_deleted = len(doomed)
    done.comments_kept = _settle_comments(session, uid, now)
    erasure.forget_notifications(
        session,
        "feedback_request_id",
        select(FeedbackRequest.id).where(FeedbackRequest.learner_id == uid),
    )
    erasure.sweep(session, uid)
    if avatar:  # the row goes with the user; its bytes are in the storage backend
        get_storage().delete(avatar_key(avatar), session=session)
    handles.reserve(session, user.handle, now=now)
    session.delete(user)
    session.flush()
    logger.info(
        "account deleted",
        extra={"user_id": uid, "projects_deleted": done.projects_deleted},
    )
    return done


def _member_projects_changed(session: Session, uid: int) -> None:
    """Bump every project the person is on, so no cached page still names them."""
    bump_versions(session, select(ProjectMember.project_id).where(ProjectMember.user_id == uid))
    session.expire_all()


def _heir(session: Session, project: Project, uid: int) -> User | None:
    """The longest-standing accepted member other than the person, if any."""
    return session.exec(
        select(User)
        .join(ProjectMember, col(ProjectMember.user_id) == User.id)
        .where(
            ProjectMember.project_id == project.id,
            ProjectMember.status == MemberStatus.accepted,
            ProjectMember.user_id != uid,
        )
        .order_by(col(ProjectMember.created_at), col(ProjectMember.id))
    ).first()


def _hand_over(session: Session, project: Project, heir: User) -> None:
    """Make the heir the owner; a slug they already use gets a fresh one."""
    assert heir.id is not None
    clash = (
        session.exec(
            select(Project.id).where(
                Project.owner_id == heir.id, Project.slug == project.slug, Project.id != project.id
            )
        ).first()
        or session.exec(
            select(ProjectSlug.id).where(
                ProjectSlug.owner_id == heir.id, ProjectSlug.slug == project.slug
            )
        ).first()
    )
    if clash is not None:
        project.slug = unique_slug(session, heir.id, project.title)
    project.owner_id = heir.id
    session.add(project)
    session.flush()


def _delete_projects(session: Session, projects: list[Project]) -> None:
    """Delete projects with their files; the database cascades to their rows."""
    ids = [p.id for p in projects]
    if not ids:
        return
    for project in projects:
        for image in images.list_images(session, project.id):
            images.delete_image(session, project, image)
    # Offline runs still waiting to be imported (or whose import failed) keep their zip.
    queued = select(OfflineImport.storage_key).where(col(OfflineImport.project_id).in_(ids))
    for key in session.exec(queued).all():
        get_storage().delete(key, session=session)
    session.execute(
        update(Project)
        .where(col(Project.carried_from_id).in_(ids))
        .values(carried_from_id=None)
        .execution_options(synchronize_session=False)
    )
    erasure.forget_notifications(session, "project_id", ids)
    session.execute(
        delete(Project).where(col(Project.id).in_(ids)).execution_options(synchronize_session=False)
    )
    session.expire_all()


def _settle_comments(session: Session, uid: int, now: datetime) -> int:
    """Remove the person's comments; keep text-less placeholders where others replied."""
    reply = aliased(Comment)
    answered = exists().where(
        reply.parent_id == Comment.id,
        reply.author_id != uid,
        col(reply.deleted_at).is_(None),
    )
    keep = list(
        session.exec(
            select(Comment.id).where(
                Comment.author_id == uid, col(Comment.parent_id).is_(None), answered
            )
        )
    )
    erasure.forget_notifications(
        session, "comment_id", select(Comment.id).where(Comment.author_id == uid)
    )
    if keep:
        session.execute(
            update(Comment)
            .where(col(Comment.id).in_(keep))
            .values(
                author_id=_placeholder_author(session, now).id,
                body_md="",
                edited_at=None,
                deleted_at=func.coalesce(Comment.deleted_at, now),
            )
            .execution_options(synchronize_session=False)
        )
    session.execute(
        delete(Comment).where(Comment.author_id == uid).execution_options(synchronize_session=False)
    )
    return len(keep)


def _placeholder_author(session: Session, now: datetime) -> User:
    """The one account that stands in for deleted people under kept placeholders."""
    ghost = session.exec(select(User).where(User.handle == PLACEHOLDER_HANDLE)).first()
    if ghost is None:
        ghost = User(
            handle=PLACEHOLDER_HANDLE,
            display_name="Deleted user",
            email="deleted-user@placeholder.invalid",
            password_hash="!no-login",
            suspended_at=now,
            created_at=now,
        )
        session.add(ghost)
        session.flush()
    return ghost
