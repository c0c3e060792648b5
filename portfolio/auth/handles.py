"""Handles of deleted accounts stay reserved for a while, then free up.

For RESERVATION_DAYS after a deletion nobody can sign up with, or rename
to, the old handle: links to /u/<handle> keep answering 404 instead of
showing a stranger's page. Expired rows are simply ignored (and replaced
when the same handle is reserved again).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, select

from ..errors import Conflict
from ..models import HandleReservation

RESERVATION_DAYS = 90


def reserve(session: Session, handle: str, *, now: datetime) -> HandleReservation:
    """Keep this handle from new owners for RESERVATION_DAYS."""
    session.execute(delete(HandleReservation).where(HandleReservation.handle == handle))
    row = HandleReservation(
        handle=handle, reserved_until=now + timedelta(days=RESERVATION_DAYS), created_at=now
    )
    session.add(row)
    session.flush()
    return row


def check_free(session: Session, handle: str, *, now: datetime) -> None:
    """Refuse a handle that a recently deleted account held."""
    until = session.exec(
        select(HandleReservation.reserved_until).where(
            HandleReservation.handle == handle, HandleReservation.reserved_until > now
        )
    ).first()
    if until is not None:
        raise Conflict(
            f"The handle {handle} belonged to an account that was deleted; it stays reserved "
            f"until {until:%d %B %Y}. Please pick another.",
            field="handle",
        )
