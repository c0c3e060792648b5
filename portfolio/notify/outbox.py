"""The email outbox: claim due deliveries, send each, record what happened.

A delivery is claimed by pushing its next_attempt_at a lease into the
future in one UPDATE (on PostgreSQL the rows are picked with FOR UPDATE
SKIP LOCKED, so two schedulers never claim the same one; SQLite serializes
writers anyway); that time is also the claim's token, which ``extend``
checks before renewing, so a claim that ran out and was taken by another
sender is never taken back. The claim is committed before sending, and each send's
outcome is committed on its own, so a crash re-sends at most the message in
flight and a lost claim simply expires. Nothing is deleted: failures are
retried with exponential backoff and, after MAIL_MAX_ATTEMPTS or a
permanent refusal, kept as failed for admins, who can queue them again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from ..auth.email_links import LINK_TEMPLATE, render_link
from ..errors import Conflict, NotFound
from ..models import Delivery, DeliveryMode, DeliveryStatus, Notification, User
from . import unsubscribe
from .mail import (
    ConsoleTransport,
    EmailMessageData,
    SMTPTransport,
    Transport,
    TransportError,
    backoff_delay,
    build_message,
)
from .reminder_mail import REMINDER_TEMPLATE, render_delivery
from .service import EmailContent, mode_for

logger = logging.getLogger(__name__)

# A claim lasts one lease; the sender renews the rest of its batch before each
# message (``extend``), so a live sender keeps a slow batch while a killed sender's
# claims come back after one lease (MAIL_LEASE_SECONDS, default 2 minutes) rather than
# after a lease long enough for a whole batch (BATCH_SIZE sends x SMTP timeout).
LEASE = timedelta(minutes=2)
BATCH_SIZE = 20

# Deliveries queued without a body (Delivery.template) and what renders them
# when sent: the content, or a reason the email is moot and is cancelled.
Renderer = Callable[[Session, Delivery, Notification | None, datetime], EmailContent | str]
RENDERERS: dict[str, Renderer] = {REMINDER_TEMPLATE: render_delivery, LINK_TEMPLATE: render_link}
# Emails that carry a one-time link: their text is never written to the row, so
# the database (and the admin's list) never holds a usable link.
SECRET_TEMPLATES = frozenset({LINK_TEMPLATE})
REDACTED = "(a one-time link, not stored)"


class Outcome(StrEnum):
    sent = "sent"
    retry = "retry"  # a temporary failure; tried again after a backoff
    unreachable = "unreachable"  # a retry because the server could not be reached at all
    failed = "failed"
    cancelled = "cancelled"
    skipped = "skipped"  # no longer pending (cancelled or sent meanwhile)


@dataclass(frozen=True)
class Mailer:
    """How to send: the transport, the From address and the retry limit."""

    transport: Transport
    sender: str
    max_attempts: int = 10

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Mailer:
        """SMTP when SMTP_HOST is set, else the console (log) transport."""
        transport: Transport
        if config.get("SMTP_HOST"):
            transport = SMTPTransport(
                config["SMTP_HOST"],
                config.get("SMTP_PORT"),
                username=config.get("SMTP_USERNAME"),
                password=config.get("SMTP_PASSWORD"),
                security=config.get("SMTP_SECURITY", "starttls"),
                timeout=config.get("SMTP_TIMEOUT", 30.0),
            )
        else:
            transport = ConsoleTransport()
        return cls(transport, config["MAIL_FROM"], config.get("MAIL_MAX_ATTEMPTS", 10))

    @property
    def domain(self) -> str:
        return parseaddr(self.sender)[1].rpartition("@")[2] or "localhost"


def claim_due(
    session: Session, *, now: datetime, limit: int = BATCH_SIZE, lease: timedelta = LEASE
) -> list[int]:
    """Claim up to `limit` pending deliveries that are due; the caller commits at once."""
    due = (
        select(Delivery.id)
        .where(Delivery.status == DeliveryStatus.pending.value, Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = session.execute(
        update(Delivery)
        .where(col(Delivery.id).in_(due.scalar_subquery()))
        .values(next_attempt_at=now + lease)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed.scalars())


def extend(
    session: Session,
    delivery_ids: list[int],
    *,
    held_until: datetime,
    now: datetime,
    lease: timedelta = LEASE,
) -> tuple[list[int], datetime]:
    """Renew our claim on the deliveries still held until ``held_until``; the caller commits.

    Returns the ids still ours and the new expiry (the token for the next renewal).
    """
    if not delivery_ids:
        return [], held_until
    until = now + lease
    kept = session.execute(
        update(Delivery)
        .where(
            col(Delivery.id).in_(delivery_ids),
            Delivery.status == DeliveryStatus.pending.value,
            Delivery.next_attempt_at == held_until,
        )
        .values(next_attempt_at=until)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(kept.scalars()), until


def release(session: Session, delivery_ids: list[int], *, now: datetime) -> None:
    """Give back claimed deliveries that were not tried, due again at `now`."""
    if delivery_ids:
        session.execute(
            update(Delivery)
            .where(
                col(Delivery.id).in_(delivery_ids),
                Delivery.status == DeliveryStatus.pending.value,
            )
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )


def send_one(session: Session, delivery_id: int, *, mailer: Mailer, now: datetime) -> Outcome:
    """Send one claimed delivery and record the outcome; the caller commits."""
    delivery = session.get(Delivery, delivery_id, populate_existing=True)
    if delivery is None or delivery.status != DeliveryStatus.pending:
        return Outcome.skipped
    notification = (
        session.get(Notification, delivery.notification_id) if delivery.notification_id else None
    )
    category = (notification.payload or {}).get("category") if notification else None
    if category and mode_for(session, delivery.user_id, category) != DeliveryMode.email:
        # Unsubscribed (or switched to in-app) after this was queued.
        return _finish(session, delivery, DeliveryStatus.cancelled, "email turned off by user")
    if delivery.template:
        try:
            moot = _render(session, delivery, notification, now)
        except Exception as exc:  # a template or data bug: keep it visible, retry later
            logger.exception("delivery %s cannot be rendered", delivery.id)
            session.rollback()  # a failed query leaves the transaction unusable on PostgreSQL
            error = f"cannot render the email: {exc!r}"
            return _retry_or_fail(session, delivery, error, mailer=mailer, now=now) or Outcome.retry
        if moot:
            return _finish(session, delivery, DeliveryStatus.cancelled, moot)
    try:
        message = build_message(
            EmailMessageData(
                to=delivery.to_address,
                subject=delivery.subject,
                text=delivery.text_body,
                html=delivery.html_body,
                list_unsubscribe=unsubscribe.url(delivery.user_id, category) if category else None,
                headers={"X-Seasons-Kind": notification.kind} if notification else {},
                message_id=f"delivery-{delivery.id}@{mailer.domain}",
            ),
            sender=mailer.sender,
            now=now,
        )
    except ValueError as exc:  # a bad address or header: no retry can fix it
        _redact(delivery)
        logger.warning("delivery %s cannot be built: %s", delivery.id, exc)
        delivery.attempts += 1
        return _finish(session, delivery, DeliveryStatus.failed, f"cannot build message: {exc}")
    _redact(delivery)
    try:
        mailer.transport.send(message)
    except TransportError as exc:
        return _failed_attempt(session, delivery, exc, mailer=mailer, now=now)
    delivery.attempts += 1
    delivery.sent_at = now
    delivery.last_error = ""
    return _finish(session, delivery, DeliveryStatus.sent, "")


def _render(
    session: Session, delivery: Delivery, notification: Notification | None, now: datetime
) -> str:
    """Write a send-time rendered email into the delivery; returns why it is moot, or "".

    Rendered on every attempt, so a retry after an outage says what is true
    then; the last rendering stays on the row for the admin's list.
    """
    renderer = RENDERERS.get(delivery.template)
    if renderer is None:
        return f"nothing can render template {delivery.template!r}"
    content = renderer(session, delivery, notification, now)
    if isinstance(content, str):
        return content
    delivery.subject = " ".join(content.subject.split())[:300]
    delivery.text_body = content.text
    delivery.html_body = content.html
    return ""


def _redact(delivery: Delivery) -> None:
    """Keep a one-time link only in the message being sent, never on the row."""
    if delivery.template in SECRET_TEMPLATES:
        delivery.text_body = REDACTED
        delivery.html_body = ""


def _failed_attempt(
    session: Session, delivery: Delivery, exc: TransportError, *, mailer: Mailer, now: datetime
) -> Outcome:
    if not exc.temporary:
        delivery.attempts += 1
        logger.error("delivery %s failed for good: %s", delivery.id, exc)
        return _finish(session, delivery, DeliveryStatus.failed, str(exc))
    failed = _retry_or_fail(session, delivery, str(exc), mailer=mailer, now=now)
    return failed or (Outcome.unreachable if exc.code is None else Outcome.retry)


def _retry_or_fail(
    session: Session, delivery: Delivery, error: str, *, mailer: Mailer, now: datetime
) -> Outcome | None:
    """Count a failed attempt: back off and return None, or fail for good once out of tries."""
    delivery.attempts += 1
    error = error[:1000]
    if delivery.attempts >= mailer.max_attempts:
        logger.error("delivery %s failed for good: %s", delivery.id, error)
        return _finish(session, delivery, DeliveryStatus.failed, error)
    delivery.next_attempt_at = now + backoff_delay(delivery.attempts)
    delivery.last_error = error
    session.add(delivery)
    session.flush()
    logger.warning(
        "delivery %s attempt %d failed, next at %s: %s",
        delivery.id,
        delivery.attempts,
        delivery.next_attempt_at.isoformat(),
        error,
    )
    return None


def _finish(session: Session, delivery: Delivery, status: DeliveryStatus, error: str) -> Outcome:
    delivery.status = status
    if error:
        delivery.last_error = error[:1000]
    session.add(delivery)
    session.flush()
    return Outcome(status.value)


# Admin ---------------------------------------------------------------------


def status_counts(session: Session) -> dict[str, int]:
    """How many deliveries are in each status."""
    rows = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
    counts = {s.value: 0 for s in DeliveryStatus}
    counts.update({status: n for status, n in rows})
    return counts


def oldest_pending(session: Session) -> datetime | None:
    """When the oldest email still waiting to be sent was queued (None: none waits)."""
    return session.execute(
        select(func.min(Delivery.created_at)).where(Delivery.status == DeliveryStatus.pending.value)
    ).scalar()


def troubled(session: Session, *, limit: int = 200) -> list[tuple[Delivery, User]]:
    """Failed deliveries and pending ones that have failed before, newest first."""
    rows = session.execute(
        select(Delivery, User)
        .join(User, User.id == Delivery.user_id)
        .where(
            (Delivery.status == DeliveryStatus.failed.value)
            | ((Delivery.status == DeliveryStatus.pending.value) & (Delivery.attempts > 0))
        )
        .order_by(col(Delivery.id).desc())
        .limit(limit)
    )
    return [(d, u) for d, u in rows]


def requeue(session: Session, delivery_id: int, *, now: datetime) -> Delivery:
    """Queue a failed delivery again, with a fresh count of attempts."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound("There is no such delivery.")
    if delivery.status != DeliveryStatus.failed:
        raise Conflict("Only failed deliveries can be queued again.")
    delivery.status = DeliveryStatus.pending
    delivery.attempts = 0
    delivery.next_attempt_at = now
    session.add(delivery)
    session.flush()
    return delivery
