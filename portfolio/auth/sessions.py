"""Server-side sign-in sessions: one row per signed-in browser.

The signed session cookie (and the remember-me cookie) hold
"<user id>:<session key>"; the row holds only the key's SHA-256. Loading a
user needs the row, so deleting it signs that browser out at its next
request: "sign out everywhere else", a password change or reset, and a
suspension all come down to deleting rows. ``last_seen_at`` is refreshed at
most every TOUCH_EVERY so that browsing does not write on every request.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from ..db import get_engine
from ..models import User, UserSession

logger = logging.getLogger(__name__)

TOUCH_EVERY = timedelta(minutes=5)
USER_AGENT_CHARS = 200
MAX_KEY_CHARS = 100


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _attach(user: User, key: str, row_id: int | None) -> None:
    """Remember on the loaded user which session it came through (read by User.get_id)."""
    user.__dict__["_session_key"] = key
    user.__dict__["_session_row"] = row_id


def current_row_id(user: User) -> int | None:
    """The id of the session row this request is signed in through."""
    return user.__dict__.get("_session_row")


def start(session: Session, user: User, *, user_agent: str, now: datetime) -> UserSession:
    """Open a session for this browser; the caller commits, then calls login_user(user)."""
    key = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        key_hash=_hash(key),
        created_at=now,
        last_seen_at=now,
        user_agent=(user_agent or "")[:USER_AGENT_CHARS],
    )
    session.add(row)
    session.flush()
    _attach(user, key, row.id)
    return row


def load(session: Session, stored_id: str, *, now: datetime) -> User | None:
    """Resolve "<user id>:<key>" to the user, if that session still exists and may sign in."""
    user_id, _, key = (stored_id or "").partition(":")
    if not user_id.isdigit() or not key or len(key) > MAX_KEY_CHARS:
        return None
    row = session.exec(select(UserSession).where(UserSession.key_hash == _hash(key))).first()
    if row is None or row.user_id != int(user_id):
        return None
    user = session.get(User, row.user_id)
    if user is None:
        return None
    _attach(user, key, row.id)
    if now - row.last_seen_at >= TOUCH_EVERY:
        _touch(row.id, now)
    return user


def _touch(row_id: int | None, now: datetime) -> None:
    """Record activity on a connection of its own, so the request's transaction stays untouched.

    The user is loaded before the view runs (see auth.init_app), so the
    request holds no write lock yet; a failure only loses a timestamp.
    """
    try:
        with get_engine().begin() as conn:
            conn.execute(
                update(UserSession).where(col(UserSession.id) == row_id).values(last_seen_at=now)
            )
    except SQLAlchemyError:
        logger.warning("cannot record session activity", exc_info=True)


def list_for(session: Session, user_id: int) -> list[UserSession]:
    """The user's sessions, most recently seen first."""
    return list(
        session.exec(
            select(UserSession)
            .where(UserSession.user_id == user_id)
            .order_by(col(UserSession.last_seen_at).desc(), col(UserSession.id).desc())
        )
    )


def end(session: Session, user_id: int, row_id: int) -> bool:
    """Sign out one of the user's sessions; False when there is no such session of theirs."""
    result = session.execute(
        delete(UserSession).where(
            col(UserSession.id) == row_id, col(UserSession.user_id) == user_id
        )
    )
    session.flush()
    return bool(result.rowcount)


def end_others(session: Session, user_id: int, *, keep: int | None) -> int:
    """Sign out every session of the user except `keep` (None: all of them); returns how many."""
    stmt = delete(UserSession).where(col(UserSession.user_id) == user_id)
    if keep is not None:
        stmt = stmt.where(col(UserSession.id) != keep)
    result = session.execute(stmt)
    session.flush()
    return int(result.rowcount or 0)
