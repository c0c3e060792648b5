"""Accounts: sign-up, authentication, profile and role changes."""

from __future__ import annotations

import logging

from sqlalchemy import func
from sqlmodel import Session, select

from ..errors import Conflict, DomainError, NotFound
from ..models import Role, User, utcnow
from ..models.user import new_login_id
from . import handles, rules
from .passwords import hash_password, needs_rehash, verify_password

logger = logging.getLogger(__name__)


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def get_user_by_handle(session: Session, handle: str) -> User | None:
    return session.exec(select(User).where(User.handle == handle.strip().lower())).first()


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def _ensure_unique(session: Session, *, email: str | None, handle: str | None, exclude: int | None):
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
) -> User:
    """Create an account after checking every field; raises ValidationError/Conflict."""
    email = rules.normalize_email(email)
    handle = rules.check_handle(handle)
    display_name = rules.check_length(
        display_name, field="display_name", label="Display name", max_len=80, required=True
    )
    timezone = rules.check_timezone(timezone)
    rules.check_password(password, user_inputs=[email, handle, display_name])
    _ensure_unique(session, email=email, handle=handle, exclude=None)
    user = User(
        email=email,
        handle=handle,
        display_name=display_name,
        timezone=timezone,
        password_hash=hash_password(password),
        role=role,
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


def change_password(session: Session, user: User, *, current: str, new: str) -> None:
    """Set a new password and rotate the login id, which ends other sessions."""
    if not verify_password(user.password_hash, current or ""):
        raise rules.ValidationError("Your current password is not right.", field="current")
    rules.check_password(new, user_inputs=[user.email, user.handle, user.display_name])
    user.password_hash = hash_password(new)
    user.login_id = new_login_id()
    session.add(user)
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
    _ensure_unique(session, email=None, handle=handle, exclude=user.id)
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


def load_session_user(session: Session, session_id: str) -> User | None:
    """Resolve Flask-Login's stored id "<user id>:<login id>" to a user."""
    user_id, _, login_id = (session_id or "").partition(":")
    if not user_id.isdigit() or not login_id:
        return None
    user = session.get(User, int(user_id))
    if user is None or user.login_id != login_id:
        return None
    return user


def create_or_promote_admin(
    session: Session, *, email: str, handle: str, display_name: str, password: str
) -> User:
    """Make the account with this email an admin, creating it if needed."""
    existing = get_user_by_email(session, rules.normalize_email(email))
    if existing is not None:
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
    )
