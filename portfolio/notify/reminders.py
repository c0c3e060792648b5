"""Milestone reminders: which are due, queued once each, cancelled when moot.

Policy, per open milestone and per accepted project member:

    7d        7 days before the due time
    1d        1 day before
    due       at the due time
    overdue   1 day after, if still not done

Only the *latest* kind whose time has come is sent. A kind is due while
now lies between its own time and the next kind's; the overdue reminder
stays due until STALE_AFTER past the due time. So a scheduler that was
down over a reminder time sends it late rather than never, and one that was
down for eight days sends the one reminder that still makes sense
("overdue"), not a backlog of four. Milestones more than STALE_AFTER past due get nothing: a newly
deployed server does not mail about last season.

Each kind is written by two INSERT … SELECT statements and nothing else:
the notifications (a range scan of open milestones by due_at, index
ix_milestones_due_open, joined to members and preferences, minus those whose
dedupe key is already in notifications) and then their pending emails. The
key (milestone, user, kind, due time) is UNIQUE, so a second scheduler's
insert is a no-op, and moving a milestone (a new due time) re-arms its
reminders. What a reminder *says* — the due time in the reader's zone, "in 3
days", the latest metric — is rendered when it is read or sent
(reminder_mail.py), so it is true then, and queueing stays set-based.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from flask import current_app
from sqlalchemy import (
    JSON,
    BigInteger,
    String,
    and_,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from ..db import insert_for
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
from ..models.types import UTCDateTime
from .reminder_mail import CATEGORY, REMINDER_TEMPLATE, reminder_key

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


# The stored in-app title, built in SQL. Due times and "in 3 days" are not
# stored: the inbox and the email render them when they are read or sent, in
# the reader's zone and relative to that moment (reminder_mail.py).
PHRASES: dict[ReminderKind, str] = {
    ReminderKind.week: "is due within a week",
    ReminderKind.day: "is due within a day",
    ReminderKind.due: "is due now",
    ReminderKind.overdue: "is overdue",
}


def _epoch_sql(session: Session) -> Any:
    """Milestone.due_at as whole epoch seconds, truncated like int(dt.timestamp())."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", Milestone.due_at)), BigInteger)
    # SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff" and strftime would round .999999
    # up to the next second; cut the fraction off first to truncate instead.
    return cast(func.strftime("%s", func.substr(Milestone.due_at, 1, 19)), BigInteger)


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


def _json_object(session: Session, **fields: Any) -> Any:
    """A JSON object built by the database (json_build_object / json_object)."""
    name = "json_build_object" if session.get_bind().dialect.name == "postgresql" else "json_object"
    args = [part for key, value in fields.items() for part in (literal(key), value)]
    return getattr(func, name)(*args, type_=JSON)


def _preference_of(user_id: Any) -> Any:
    """Join condition: the reminder preference of `user_id` (absent means email)."""
    return and_(
        NotificationPreference.user_id == user_id, NotificationPreference.category == CATEGORY
    )


def _due_select(session: Session, kind: ReminderKind, now: datetime) -> Any:
    """The notification rows of every reminder of `kind` due at `now` and not yet queued.

    One range scan of open milestones by due_at, joined to accepted members
    and their preference, anti-joined against the dedupe keys already written.
    Columns in NOTIFICATION_COLUMNS order.
    """
    lo, hi = window(kind, now)
    member = aliased(User)
    owner = aliased(User)
    text = String()
    key = _key_sql(session, kind, Milestone.id, member.id)
    title = func.substr(
        cast("“", text)
        + func.substr(Milestone.title, 1, 120)
        + f"” {PHRASES[kind]} · "
        + Project.title,
        1,
        200,
    )
    url = func.substr(
        cast(f"{current_app.config['BASE_URL']}/u/", text) + owner.handle + "/" + Project.slug,
        1,
        500,
    )
    payload = _json_object(
        session,
        milestone_id=Milestone.id,
        project_id=Project.id,
        reminder=literal(kind.value),
        due_ts=_epoch_sql(session),
        category=literal(CATEGORY),
    )
    return (
        select(
            member.id,
            literal(f"reminder_{kind.value}"),
            title,
            literal(""),
            url,
            payload,
            key,
            literal(now, UTCDateTime),
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
        .outerjoin(NotificationPreference, _preference_of(member.id))
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


NOTIFICATION_COLUMNS = (
    "user_id",
    "kind",
    "title",
    "body",
    "url",
    "payload",
    "dedupe_key",
    "created_at",
)


def _queue_kind(session: Session, kind: ReminderKind, now: datetime) -> int:
    """Write the due reminders of one kind: two INSERT … SELECT statements.

    The notifications (ON CONFLICT DO NOTHING: a row another scheduler wrote
    first is skipped, and RETURNING lists only the rows written here), then a
    pending email for each new one whose recipient wants email. No row passes
    through Python, which is what lets a week's backlog of thousands be
    queued in well under a second.
    """
    table = Notification.__table__  # type: ignore[attr-defined]
    written = session.execute(
        insert_for(session, table)
        .from_select(NOTIFICATION_COLUMNS, _due_select(session, kind, now))
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.c.id)
    )
    ids = list(written.scalars())
    if not ids:
        return 0
    session.execute(
        insert_for(session, Delivery.__table__)  # type: ignore[attr-defined]
        .from_select(DELIVERY_COLUMNS, _deliveries_select(kind, min(ids), max(ids), now))
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    return len(ids)


DELIVERY_COLUMNS = (
    "notification_id",
    "user_id",
    "channel",
    "status",
    "to_address",
    "subject",
    "text_body",
    "html_body",
    "template",
    "dedupe_key",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
)


def _deliveries_select(kind: ReminderKind, first_id: int, last_id: int, now: datetime) -> Any:
    """A pending email per reminder notification in [first_id, last_id] whose user wants one.

    The body is rendered when it is sent (template "reminder"). Another
    scheduler's rows in the same id range are harmless: their email's
    dedupe key is already taken, or will be, and the insert skips it.
    """
    return (
        select(
            Notification.id,
            Notification.user_id,
            literal("email"),
            literal(DeliveryStatus.pending.value),
            User.email,
            Notification.title,
            literal(""),
            literal(""),
            literal(REMINDER_TEMPLATE),
            Notification.dedupe_key,
            literal(0),
            literal(now, UTCDateTime),
            literal(""),
            literal(now, UTCDateTime),
        )
        .join(User, User.id == Notification.user_id)
        .outerjoin(NotificationPreference, _preference_of(Notification.user_id))
        .where(
            col(Notification.id).between(first_id, last_id),
            Notification.kind == f"reminder_{kind.value}",
            or_(
                col(NotificationPreference.mode).is_(None),
                NotificationPreference.mode == DeliveryMode.email.value,
            ),
            # Only confirmed addresses get reminder emails when the site asks for them.
            col(User.email_verified_at).is_not(None)
            if current_app.config.get("REQUIRE_VERIFIED_EMAIL")
            else true(),
        )
    )


def queue_due_reminders(session: Session, *, now: datetime) -> int:
    """Queue every reminder that is due at `now` and not yet queued; returns how many.

    Flushes only; the caller commits, so a sweep is written whole or not at all.
    """
    session.flush()
    cancel_stale(session)
    queued = sum(_queue_kind(session, kind, now) for kind in OFFSETS)
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
