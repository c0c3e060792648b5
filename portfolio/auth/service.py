"""Accounts: sign-up, authentication, profile and role changes."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from ..errors import Conflict, DomainError, NotFound
from ..models import Role, TokenPurpose, User, utcnow
from . import email_links, handles, rules, sessions
from .passwords import hash_password, needs_rehash, verify_password

logger = logging.getLogger(__name__)


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def get_user_by_handle(session: Session, handle: str) -> User | None:
    return session.exec(select(User).where(User.handle == handle.strip().lower())).first()


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def ensure_unique(session: Session, *, email: str | None, handle: str | None, exclude: int | None):
    if email is not None:
        q = select(User.id).where(User.email == email)
        if exclude is not None:
            q = q.where(User.id != exclude)
        if session.exec(q).first() is not None:
            raise Conflict("An account with that email already exists.", field="email")
    if handle is not None:
        q = select(User.id).where(User.handle == handle)
        if exclude is not None:
            q = q.where(User.id != exclude)
        if session.exec(q).first() is not None:
            raise Conflict("That handle is taken. Please pick another.", field="handle")
        handles.check_free(session, handle, now=utcnow())


def register(
    session: Session,
    *,
    email: str,
    handle: str,
    display_name: str,
    password: str,
    timezone: str = "UTC",
    role: Role = Role.learner,
    verified_at: datetime | None = None,
) -> User:
    """Create an account after checking every field; raises with all the problems at once."""
    errors = rules.ErrorCollector()
    email = errors.check(rules.normalize_email, email)
    handle = errors.check(rules.check_handle, handle)
    display_name = errors.check(
        rules.check_length,
        display_name,
        field="display_name",
        label="Display name",
        max_len=80,
        required=True,
    )
    timezone = errors.check(rules.check_timezone, timezone)
    errors.check(
        rules.check_password,
        password or "",
        user_inputs=[email or "", handle or "", display_name or ""],
    )
    if email is not None:
        errors.check(ensure_unique, session, email=email, handle=None, exclude=None)
    if handle is not None:
        errors.check(ensure_unique, session, email=None, handle=handle, exclude=None)
    errors.raise_any()
    assert email and handle and display_name and timezone
    user = User(
        email=email,
        handle=handle,
        display_name=display_name,
        timezone=timezone,
        password_hash=hash_password(password),
        role=role,
        email_verified_at=verified_at,
    )
    session.add(user)
    session.flush()
    logger.info("user registered", extra={"user_id": user.id, "handle": handle})
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """Return the user for these credentials, upgrading an old hash on the way."""
    user = get_user_by_email(session, email or "")
    if not verify_password(user.password_hash if user else None, password or ""):
        return None
    assert user is not None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    return user


def change_password(
    session: Session, user: User, *, current: str, new: str, keep_session: int | None
) -> None:
    """Set a new password; every other session ends and pending reset links stop working."""
    if not verify_password(user.password_hash, current or ""):
        raise rules.ValidationError("Your current password is not right.", field="current")
    set_password(session, user, new, keep_session=keep_session)


def set_password(session: Session, user: User, new: str, *, keep_session: int | None) -> None:
    """Store a new password (strength-checked) and end the user's other sessions.

    Pending reset and email-change links die with the old password: whoever
    asked for them may be the intruder the new password shuts out.
    """
    rules.check_password(new or "", user_inputs=[user.email, user.handle, user.display_name])
    user.password_hash = hash_password(new)
    session.add(user)
    email_links.revoke(session, user.id, TokenPurpose.reset)
    email_links.revoke(session, user.id, TokenPurpose.email_change)
    sessions.end_others(session, user.id, keep=keep_session)
    session.flush()


def update_profile(
    session: Session, user: User, *, display_name: str, handle: str, timezone: str, bio: str
) -> User:
    """Change the public profile fields; all are checked before any is written."""
    display_name = rules.check_length(
        display_name, field="display_name", label="Display name", max_len=80, required=True
    )
    handle = rules.check_handle(handle)
    timezone = rules.check_timezone(timezone)
    bio = rules.check_length(bio, field="bio", label="Bio", max_len=500, required=False)
    ensure_unique(session, email=None, handle=handle, exclude=user.id)
    user.display_name, user.handle, user.timezone, user.bio = display_name, handle, timezone, bio
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.created_at, User.id)))


def count_admins(session: Session) -> int:
    return session.exec(select(func.count()).select_from(User).where(User.role == Role.admin)).one()


def set_role(session: Session, *, actor: User, user_id: int, role: str) -> User:
    """Change a user's role; the last admin cannot demote themself."""
    try:
        new_role = Role(role)
    except ValueError as exc:
        raise rules.ValidationError("Unknown role.", field="role") from exc
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    if user.role == Role.admin and new_role != Role.admin and count_admins(session) <= 1:
        raise DomainError("The last admin cannot be demoted. Promote someone else first.")
    user.role = new_role
    session.add(user)
    session.flush()
    logger.info(
        "role changed", extra={"actor_id": actor.id, "user_id": user.id, "role": str(new_role)}
    )
    return user


def create_or_promote_admin(
    session: Session, *, email: str, handle: str, display_name: str, password: str
) -> User:
    """Make the account with this email an admin, creating it if needed."""
    existing = get_user_by_email(session, rules.normalize_email(email))
    if existing is not None:
        # The operator names the address, so it counts as confirmed.
        existing.email_verified_at = existing.email_verified_at or utcnow()
        existing.role = Role.admin
        session.add(existing)
        session.flush()
        return existing
    return register(
        session,
        email=email,
        handle=handle,
        display_name=display_name,
        password=password,
        role=Role.admin,
        verified_at=utcnow(),
    )
