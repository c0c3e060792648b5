"""What a reminder says: in-app title and body, and the email.

Kept apart from the policy in reminders.py: this is presentation, that is
which reminders are due. Everything here runs when a reminder is read or
sent, not when it is queued: times are formatted in the recipient's zone
and relative to that moment.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlmodel import Session

from ..models import Delivery, MemberStatus, Milestone, Notification, Project, ProjectMember, User
from ..timeutil import format_local, relative
from ..tracking.snapshots import headline_metrics as tracking_headlines
from .service import EmailContent, footer_context, render_email

CATEGORY = "reminders"
# Deliveries with this template are rendered by render_delivery() when sent.
REMINDER_TEMPLATE = "reminder"

# "{when}" is relative to the sending ("in 6 days"): a milestone added three days
# before its due time gets its reminder at once, and it should not say "a week".
SUBJECTS = {
    "7d": "“{milestone}” is due {when}",
    "1d": "“{milestone}” is due {when}",
    "due": "“{milestone}” is due now",
    "overdue": "“{milestone}” is overdue",
}
PAST_SUBJECT = "“{milestone}” was due {when}"
# How long after the deadline the "due" reminder may still say "is due now".
DUE_GRACE = timedelta(hours=1)


def reminder_key(milestone_id: int, user_id: int, kind: str, due_at: datetime) -> str:
    """The UNIQUE key of one reminder; reminders._key_sql builds the same string in SQL."""
    return f"reminder:{milestone_id}:{user_id}:{kind}:{int(due_at.timestamp())}"


def headline_metrics(session: Session, project_ids: Collection[int]) -> dict[int, str]:
    """The latest headline metric per project, formatted ("val_acc 0.912").

    The best visible run's value from stored snapshots (one query, no W&B);
    reminder emails show a metric for each project found here.
    """
    return tracking_headlines(session, project_ids)


def due_at_of(notification: Notification) -> datetime | None:
    """The due time a reminder notification was written for (None for other kinds)."""
    due_ts = (notification.payload or {}).get("due_ts")
    if not notification.kind.startswith("reminder_") or not isinstance(due_ts, int):
        return None
    return datetime.fromtimestamp(due_ts, UTC)


def is_past(kind: str, due_at: datetime, now: datetime) -> bool:
    """Whether the reminder speaks of a deadline gone by ("was due …").

    The "due" reminder fires at the deadline and keeps the present tense for
    DUE_GRACE; a reminder that reaches its reader later than that (a mail
    outage, a scheduler that was down) must not claim the deadline is ahead.
    """
    if kind == "overdue":
        return True
    return due_at + (DUE_GRACE if kind == "due" else timedelta(0)) <= now


def describe(notification: Notification, tz_name: str, now: datetime) -> str:
    """The in-app body of a reminder, rendered when read: due time in the reader's zone.

    Worded as history once the deadline has passed ("Was due …"), without a
    call to action: the milestone may have been done or moved since.
    """
    due_at = due_at_of(notification)
    if due_at is None:
        return notification.body
    due_local, when = format_local(due_at, tz_name), relative(due_at, now)
    if due_at <= now:
        return f"Was due {due_local} ({when})."
    return f"Due {due_local} ({when})."


def render_delivery(
    session: Session, delivery: Delivery, notification: Notification | None, now: datetime
) -> EmailContent | str:
    """The email of a queued reminder, rendered as it is sent; or why it is moot.

    Rendering here rather than at queue time keeps queueing set-based and
    makes the email true when it arrives: "due in 2 days" on a retry after
    an outage, today's headline metric, the recipient's current zone.
    Returns a reason (str) when the milestone is done, moved or gone, or the
    recipient has left the project: the caller cancels the email.
    """
    if notification is None:
        return "notification deleted"
    payload = notification.payload or {}
    kind = str(payload.get("reminder", ""))
    due_at = due_at_of(notification)
    row = session.execute(
        select(Milestone, Project, User.handle)
        .join(Project, Project.id == Milestone.project_id)
        .join(User, User.id == Project.owner_id)
        .where(Milestone.id == payload.get("milestone_id"))
    ).one_or_none()
    if row is None or kind not in SUBJECTS or due_at is None:
        return "milestone deleted"
    milestone, project, owner_handle = row
    if milestone.done_at is not None or int(milestone.due_at.timestamp()) != int(
        due_at.timestamp()
    ):
        return "milestone done or moved"
    member = session.execute(
        select(ProjectMember.id).where(
            ProjectMember.project_id == project.id,
            ProjectMember.user_id == delivery.user_id,
            ProjectMember.status == MemberStatus.accepted.value,
        )
    ).first()
    recipient = session.get(User, delivery.user_id)
    if member is None or recipient is None:
        return "no longer a member of the project"
    base = current_app.config["BASE_URL"]
    url = f"{base}/u/{owner_handle}/{project.slug}"
    when = relative(milestone.due_at, now)
    past = is_past(kind, milestone.due_at, now)
    subject = (PAST_SUBJECT if past and kind != "overdue" else SUBJECTS[kind]).format(
        milestone=milestone.title, when=when
    )
    return render_email(
        REMINDER_TEMPLATE,
        subject,
        name=recipient.display_name,
        past=past,
        milestone=milestone.title,
        project=project.title,
        due_local=format_local(milestone.due_at, recipient.timezone),
        when=when,
        url=url,
        metric=headline_metrics(session, [project.id]).get(project.id),
        **footer_context(recipient.id, CATEGORY),
    )
