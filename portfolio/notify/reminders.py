"""Milestone reminders: which are due, queued once each, cancelled when moot.

Policy, per open milestone and per accepted project member:

    7d        7 days before the due time
    1d        1 day before
    due       at the due time
    overdue   1 day after, if still not done

Only the *latest* kind whose time has come is sent. A kind is due while
now lies between its own time and the next kind's; the overdue reminder
stays due until STALE_AFTER past the due time. So a scheduler that was down over a reminder
time sends it late rather than never, and one that was down for eight days
sends the one reminder that still makes sense ("overdue"), not a backlog of
four. Milestones more than STALE_AFTER past due get nothing: a newly
deployed server does not mail about last season.

Each kind is one set-based query: a range scan of open milestones by
due_at (index ix_milestones_due_open), joined to members and preferences,
minus those whose dedupe key is already in notifications. The key
(milestone, user, kind, due time) is UNIQUE, so a second scheduler's insert
is a no-op, and moving a milestone (a new due time) re-arms its reminders.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, String, and_, cast, exists, func, or_, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from ..models import (
    Delivery,
    DeliveryMode,
    DeliveryStatus,
    MemberStatus,
    Milestone,
    Notification,
    NotificationPreference,
    Project,
    ProjectMember,
    User,
)
from .reminder_mail import CATEGORY, Times, compose, headline_metrics, reminder_key
from .service import write_notifications

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(days=7)


class ReminderKind(StrEnum):
    week = "7d"
    day = "1d"
    due = "due"
    overdue = "overdue"


# When each kind fires, relative to the due time, in policy order.
OFFSETS: dict[ReminderKind, timedelta] = {
    ReminderKind.week: timedelta(days=-7),
    ReminderKind.day: timedelta(days=-1),
    ReminderKind.due: timedelta(0),
    ReminderKind.overdue: timedelta(days=1),
}


def dedupe_key(milestone_id: int, user_id: int, kind: ReminderKind, due_at: datetime) -> str:
    """The UNIQUE key of one reminder; the SQL in `_key_sql` must build the same string."""
    return reminder_key(milestone_id, user_id, kind.value, due_at)


def window(kind: ReminderKind, now: datetime) -> tuple[datetime, datetime]:
    """Due times (lo, hi] for which `kind` is the reminder to send at `now`."""
    kinds = list(OFFSETS)
    i = kinds.index(kind)
    until = OFFSETS[kinds[i + 1]] if i + 1 < len(kinds) else STALE_AFTER
    return now - until, now - OFFSETS[kind]


@dataclass(frozen=True, slots=True)
class Candidate:
    milestone_id: int
    milestone_title: str
    due_at: datetime
    project_id: int
    project_title: str
    project_slug: str
    owner_handle: str
    user_id: int
    email: str
    display_name: str
    timezone: str
    mode: DeliveryMode


def _epoch_sql(session: Session) -> Any:
    """Milestone.due_at as whole epoch seconds, truncated like int(dt.timestamp())."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", Milestone.due_at)), BigInteger)
    return cast(func.strftime("%s", Milestone.due_at), BigInteger)


def _key_sql(session: Session, kind: ReminderKind, milestone_id: Any, user_id: Any) -> Any:
    """`dedupe_key()` as a SQL expression."""
    epoch = _epoch_sql(session)
    text = String()
    return (
        cast("reminder:", text)
        + cast(milestone_id, text)
        + ":"
        + cast(user_id, text)
        + f":{kind.value}:"
        + cast(epoch, text)
    )


def candidates(session: Session, kind: ReminderKind, now: datetime) -> list[Candidate]:
    """Reminders of `kind` due at `now` and not yet queued: one query."""
    lo, hi = window(kind, now)
    member = aliased(User)
    owner = aliased(User)
    key = _key_sql(session, kind, Milestone.id, member.id)
    query = (
        select(
            Milestone.id,
            Milestone.title,
            Milestone.due_at,
            Project.id,
            Project.title,
            Project.slug,
            owner.handle,
            member.id,
            member.email,
            member.display_name,
            member.timezone,
            NotificationPreference.mode,
        )
        .select_from(Milestone)
        .join(Project, Project.id == Milestone.project_id)
        .join(owner, owner.id == Project.owner_id)
        .join(
            ProjectMember,
            and_(
                ProjectMember.project_id == Project.id,
                ProjectMember.status == MemberStatus.accepted.value,
            ),
        )
        .join(member, member.id == ProjectMember.user_id)
        .outerjoin(
            NotificationPreference,
            and_(
                NotificationPreference.user_id == member.id,
                NotificationPreference.category == CATEGORY,
            ),
        )
        .where(
            col(Milestone.done_at).is_(None),
            Milestone.due_at > lo,
            Milestone.due_at <= hi,
            or_(
                col(NotificationPreference.mode).is_(None),
                NotificationPreference.mode != DeliveryMode.off.value,
            ),
            ~exists().where(Notification.dedupe_key == key),
        )
        .order_by(Milestone.due_at, Milestone.id, member.id)
    )
    return [
        Candidate(*row[:11], mode=DeliveryMode(row[11] or DeliveryMode.email))
        for row in session.execute(query)
    ]


def queue_due_reminders(session: Session, *, now: datetime) -> int:
    """Queue every reminder that is due at `now` and not yet queued; returns how many."""
    cancel_stale(session)
    queued = 0
    times = Times(now)
    for kind in OFFSETS:
        found = candidates(session, kind, now)
        if not found:
            continue
        metrics = headline_metrics(session, {c.project_id for c in found})
        items = []
        for cand in found:
            try:
                items.append(compose(cand, kind.value, metrics.get(cand.project_id), times))
            except Exception:
                # One broken row (a template error, a bad address) must not hold up the rest.
                logger.exception(
                    "cannot render reminder %s for milestone %s, user %s",
                    kind.value,
                    cand.milestone_id,
                    cand.user_id,
                )
        queued += len(write_notifications(session, items, now=now))
    if queued:
        logger.info("queued %d reminders", queued)
    return queued


def cancel_reminders(session: Session, milestone_id: int) -> int:
    """Cancel the unsent reminder emails of a milestone (done, moved or deleted).

    The in-app notifications stay: they are history. Returns how many emails
    were cancelled. Flushes only; the caller commits.
    """
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.status == DeliveryStatus.pending.value,
            col(Delivery.dedupe_key).startswith(f"reminder:{milestone_id}:", autoescape=True),
        )
        .values(status=DeliveryStatus.cancelled.value, last_error="milestone done or moved")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined]


def cancel_stale(session: Session) -> int:
    """Cancel pending reminder emails whose milestone is done, gone or moved since.

    A safety net for callers that forget `cancel_reminders`, in one UPDATE:
    a pending reminder is stale unless its milestone is still open and still
    due at the time the reminder was written for.
    """
    milestone_id = Notification.payload["milestone_id"].as_integer()  # type: ignore[index]
    due_ts = Notification.payload["due_ts"].as_integer()  # type: ignore[index]
    still_valid = exists().where(
        Milestone.id == milestone_id,
        col(Milestone.done_at).is_(None),
        _epoch_sql(session) == due_ts,
    )
    stale = (
        select(Delivery.id)
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(
            Delivery.status == DeliveryStatus.pending.value,
            col(Delivery.dedupe_key).startswith("reminder:"),
            ~still_valid,
        )
    )
    result = session.execute(
        update(Delivery)
        .where(col(Delivery.id).in_(stale.scalar_subquery()))
        .values(status=DeliveryStatus.cancelled.value, last_error="milestone done or moved")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined]
