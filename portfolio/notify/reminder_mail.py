"""What a reminder says: in-app title and body, and the email.

Kept apart from the policy in reminders.py: this is presentation, that is
which reminders are due. Times are formatted in the recipient's zone.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app
from sqlmodel import Session

from ..models import DeliveryMode
from ..timeutil import format_local, relative
from ..tracking.snapshots import headline_metrics as tracking_headlines
from .service import Outgoing, footer_context, render_email

if TYPE_CHECKING:
    from .reminders import Candidate

CATEGORY = "reminders"

# "{when}" is relative to the sweep ("in 6 days"): a milestone added three days
# before its due time gets its reminder at once, and it should not say "a week".
SUBJECTS = {
    "7d": "“{milestone}” is due {when}",
    "1d": "“{milestone}” is due {when}",
    "due": "“{milestone}” is due now",
    "overdue": "“{milestone}” is overdue",
}


def reminder_key(milestone_id: int, user_id: int, kind: str, due_at: datetime) -> str:
    """The UNIQUE key of one reminder; reminders._key_sql builds the same string in SQL."""
    return f"reminder:{milestone_id}:{user_id}:{kind}:{int(due_at.timestamp())}"


def headline_metrics(session: Session, project_ids: Collection[int]) -> dict[int, str]:
    """The latest headline metric per project, formatted ("val_acc 0.912").

    The best visible run's value from stored snapshots (one query, no W&B);
    reminder emails show a metric for each project found here.
    """
    return tracking_headlines(session, project_ids)


class Times:
    """Formatted due times, memoized for one sweep.

    Milestones seeded from a season plan share a few due instants per time
    zone, and Babel's formatting is the slowest step of queueing a reminder.
    """

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._local: dict[tuple[datetime, str], str] = {}
        self._relative: dict[datetime, str] = {}

    def local(self, instant: datetime, tz_name: str) -> str:
        key = (instant, tz_name)
        if key not in self._local:
            self._local[key] = format_local(instant, tz_name)
        return self._local[key]

    def relative(self, instant: datetime) -> str:
        if instant not in self._relative:
            self._relative[instant] = relative(instant, self.now)
        return self._relative[instant]


def compose(cand: Candidate, kind: str, metric: str | None, times: Times) -> Outgoing:
    """The notification and (if wanted) email of one reminder of `kind` ("7d" … "overdue")."""
    base = current_app.config["BASE_URL"]
    url = f"{base}/u/{cand.owner_handle}/{cand.project_slug}"
    due_local = times.local(cand.due_at, cand.timezone)
    when = times.relative(cand.due_at)
    subject = SUBJECTS[kind].format(milestone=cand.milestone_title, when=when)
    title = f"{subject} · {cand.project_title}"
    if kind == "overdue":
        body = f"It was due {due_local} ({when}). Mark it done or move it."
    else:
        body = f"Due {due_local} ({when})."
    email = None
    if cand.mode == DeliveryMode.email:
        email = render_email(
            "reminder",
            subject,
            name=cand.display_name,
            kind=kind,
            milestone=cand.milestone_title,
            project=cand.project_title,
            due_local=due_local,
            when=when,
            url=url,
            metric=metric,
            **footer_context(cand.user_id, CATEGORY),
        )
    return Outgoing(
        user_id=cand.user_id,
        to_address=cand.email,
        mode=cand.mode,
        kind=f"reminder_{kind}",
        category=CATEGORY,
        title=title,
        body=body,
        url=url,
        email=email,
        payload={
            "milestone_id": cand.milestone_id,
            "project_id": cand.project_id,
            "reminder": kind,
            "due_at": cand.due_at.isoformat(),
            "due_ts": int(cand.due_at.timestamp()),
        },
        dedupe_key=reminder_key(cand.milestone_id, cand.user_id, kind, cand.due_at),
    )
