"""The weekly mentor digest: Monday 08:00 in the mentor's time zone, once per ISO week.

An hourly job calls `queue_weekly_digests`. A mentor is due from Monday
08:00 to the end of that Monday, local time, so the first hourly tick after
08:00 sends it (zones with half-hour offsets included) and a scheduler that
was down at 08:00 catches up later that day. A scheduler down all Monday
skips that week: by Tuesday the dashboard says the same, and fresher.
The dedupe key digest:<mentor>:<ISO year>-W<week> makes it once per week.
"""

from __future__ import annotations

import logging
from datetime import datetime, time

from flask import current_app
from sqlalchemy import select
from sqlmodel import Session, col

from ..models import MentorAssignment, Notification, Project, Season, User
from ..seasons.health import Health
from ..seasons.mentors import mentor_board
from ..timeutil import format_local, to_local
from .service import footer_context, notify, render_email

logger = logging.getLogger(__name__)

CATEGORY = "digest"
SEND_AT = time(8, 0)


def digest_key(mentor_id: int, local_now: datetime) -> str:
    year, week, _ = local_now.isocalendar()
    return f"digest:{mentor_id}:{year}-W{week:02d}"


def is_due(local_now: datetime) -> bool:
    """Monday, 08:00 or later, in the mentor's own zone."""
    return local_now.weekday() == 0 and local_now.time() >= SEND_AT


def queue_weekly_digests(session: Session, *, now: datetime) -> int:
    """Queue this week's digest for every mentor whose Monday 08:00 has come; returns how many."""
    today = now.date()
    mentors = session.execute(
        select(User)
        .where(
            col(User.id).in_(
                select(MentorAssignment.mentor_id)
                .join(Season, Season.id == MentorAssignment.season_id)
                .where(Season.starts_on <= today, Season.ends_on >= today)
            )
        )
        .order_by(User.id)
    ).scalars()
    queued = 0
    for mentor in mentors.all():
        local_now = to_local(now, mentor.timezone)
        if not is_due(local_now):
            continue
        try:
            with session.begin_nested():
                queued += _queue_one(session, mentor, local_now, now)
        except Exception:
            logger.exception("cannot queue the weekly digest of mentor %s", mentor.id)
    return queued


def _queue_one(session: Session, mentor: User, local_now: datetime, now: datetime) -> int:
    key = digest_key(mentor.id, local_now)
    if session.execute(select(Notification.id).where(Notification.dedupe_key == key)).first():
        return 0
    today = local_now.date()
    board = [m for m in mentor_board(session, mentor, now) if m.season.ends_on >= today]
    if not board:
        return 0
    base = current_app.config["BASE_URL"]
    needs_help = [m for m in board if m.health in (Health.behind, Health.at_risk)]
    owners = dict(
        session.execute(
            select(Project.id, User.handle)
            .join(User, User.id == Project.owner_id)
            .where(col(Project.id).in_([m.project.id for m in needs_help]))
        ).all()
    )
    lines = [
        {
            "learner": m.learner.display_name,
            "project": m.project.title,
            "health": m.health.label,
            "overdue": m.stats.overdue,
            "next_due": format_local(m.stats.next_due_at, mentor.timezone),
            "url": f"{base}/u/{owners[m.project.id]}/{m.project.slug}",
        }
        for m in needs_help
    ]
    week = local_now.strftime("%G-W%V")
    if needs_help:
        title = f"Weekly digest {week}: {len(needs_help)} of {len(board)} projects need attention"
    else:
        title = f"Weekly digest {week}: all {len(board)} projects on track"
    body = "\n".join(f"{line['learner']} · {line['project']}: {line['health']}" for line in lines)
    email = render_email(
        "digest",
        title,
        name=mentor.display_name,
        lines=lines,
        total=len(board),
        dashboard_url=f"{base}/mentor",
        **footer_context(mentor.id, CATEGORY),
    )
    created = notify(
        session,
        user=mentor,
        kind="digest",
        category=CATEGORY,
        title=title,
        body=body or "Everyone is on track.",
        url=f"{base}/mentor",
        payload={"week": week, "behind_or_at_risk": len(needs_help), "projects": len(board)},
        dedupe_key=key,
        email=email,
        now=now,
    )
    return 1 if created is not None else 0
