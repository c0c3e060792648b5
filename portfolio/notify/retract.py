"""Take a hidden or deleted comment's text back out of the notifications it caused.

A comment notification carries an excerpt of the comment (in the inbox, the
API and the data export) and may have an email waiting in the outbox. When
the comment is hidden, removed or deleted, the excerpt is replaced on the
spot and unsent emails are cancelled, so the text is gone everywhere at once
rather than filtered by every reader. Unhiding puts the excerpt back; a
cancelled email stays cancelled (it would arrive late and out of context).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlmodel import Session

from ..models import Delivery, DeliveryStatus, Notification

HIDDEN = "This comment was hidden by a moderator."
REMOVED = "This comment was removed."


def _about(comment_id: int):
    return Notification.payload["comment_id"].as_integer() == comment_id  # type: ignore[index]


def retract(session: Session, comment_id: int, *, placeholder: str) -> int:
    """Replace the comment's excerpt in every notification and cancel their unsent emails."""
    ids = select(Notification.id).where(_about(comment_id))
    session.execute(
        update(Delivery)
        .where(Delivery.notification_id.in_(ids), Delivery.status == DeliveryStatus.pending)
        .values(status=DeliveryStatus.cancelled, last_error="the comment was hidden or deleted")
        .execution_options(synchronize_session=False)
    )
    return _set_body(session, comment_id, placeholder)


def restore(session: Session, comment_id: int, *, excerpt: str) -> int:
    """Put the excerpt back after a moderator shows the comment again."""
    return _set_body(session, comment_id, excerpt)


def _set_body(session: Session, comment_id: int, body: str) -> int:
    result = session.execute(
        update(Notification)
        .where(_about(comment_id))
        .values(body=body)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined]
