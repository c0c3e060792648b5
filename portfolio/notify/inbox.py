"""The in-app inbox: unread count for the bell, the list, marking read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from ..errors import NotFound
from ..models import Notification
from .reminder_mail import describe

UNREAD_CAP = 99  # the bell shows "99+"; counting further buys nothing


# Reading -------------------------------------------------------------------


def unread_count(session: Session, user_id: int) -> int:
    """Unread notifications, counted up to UNREAD_CAP + 1 (one index range scan)."""
    unread = (
        select(Notification.id)
        .where(Notification.user_id == user_id, col(Notification.read_at).is_(None))
        .limit(UNREAD_CAP + 1)
        .subquery()
    )
    return session.execute(select(func.count()).select_from(unread)).scalar_one()


def list_for(
    session: Session, user_id: int, *, before_id: int | None = None, limit: int = 50
) -> list[Notification]:
    """The user's notifications, newest first, `limit` at a time."""
    query = select(Notification).where(Notification.user_id == user_id)
    if before_id is not None:
        query = query.where(col(Notification.id) < before_id)
    query = query.order_by(col(Notification.id).desc()).limit(limit)
    return list(session.execute(query).scalars())


def body_of(notification: Notification, tz_name: str, now: datetime) -> str:
    """The text under a notification's title, as its reader should see it now.

    Stored for most kinds; reminders are queued without one and say their
    due time in the reader's zone and relative to now ("in 3 days").
    """
    return describe(notification, tz_name, now)


def mark_read(session: Session, user_id: int, notification_id: int, *, now: datetime) -> None:
    """Mark one of the user's notifications read; other people's are NotFound."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        raise NotFound("There is no such notification.")
    if notification.read_at is None:
        notification.read_at = now
        session.add(notification)
        session.flush()


def mark_all_read(session: Session, user_id: int, *, now: datetime) -> int:
    """Mark every unread notification of the user read; returns how many."""
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, col(Notification.read_at).is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined]
