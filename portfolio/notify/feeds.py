"""Private calendar feeds: a secret URL per user listing their deadlines.

The token is the only credential (calendar apps cannot log in), so it is
long and random, stored in CalendarFeed, and can be regenerated (the old
URL stops working) or revoked in the notification settings.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from ..models import (
    CalendarFeed,
    Enrollment,
    MemberStatus,
    Milestone,
    Project,
    ProjectMember,
    Season,
    User,
)
from .calendar import CalendarEvent, build_calendar

ALARM_BEFORE = timedelta(days=1)


def get_feed(session: Session, user_id: int) -> CalendarFeed | None:
    return session.execute(
        select(CalendarFeed).where(CalendarFeed.user_id == user_id)
    ).scalar_one_or_none()


def regenerate(session: Session, user_id: int, *, now: datetime) -> CalendarFeed:
    """Create the user's feed, or give it a new token so the old URL stops working."""
    feed = get_feed(session, user_id) or CalendarFeed(user_id=user_id, token="")
    feed.token = secrets.token_urlsafe(32)
    feed.created_at = now
    session.add(feed)
    session.flush()
    return feed


def revoke(session: Session, user_id: int) -> bool:
    """Delete the user's feed; returns whether there was one."""
    result = session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def feed_url(feed: CalendarFeed) -> str:
    return f"{current_app.config['BASE_URL']}/calendar/{feed.token}.ics"


def user_for_token(session: Session, token: str) -> User | None:
    """The owner of a feed token, or None for unknown (or revoked) tokens."""
    if not token or len(token) > 64:
        return None
    return session.execute(
        select(User)
        .join(CalendarFeed, CalendarFeed.user_id == User.id)
        .where(CalendarFeed.token == token)
    ).scalar_one_or_none()


def events_for(session: Session, user: User) -> list[CalendarEvent]:
    """The user's milestones (projects they belong to) and their seasons' first and last days."""
    base = current_app.config["BASE_URL"]
    host = urlsplit(base).hostname or "seasons"
    owner = aliased(User)
    rows = session.execute(
        select(Milestone, Project, owner.handle)
        .join(Project, Project.id == Milestone.project_id)
        .join(owner, owner.id == Project.owner_id)
        .join(ProjectMember, ProjectMember.project_id == Project.id)
        .where(
            ProjectMember.user_id == user.id,
            ProjectMember.status == MemberStatus.accepted.value,
        )
        .order_by(Milestone.due_at, Milestone.id)
    ).all()
    events = []
    for milestone, project, handle in rows:
        done = milestone.done_at is not None
        events.append(
            CalendarEvent(
                uid=f"milestone-{milestone.id}@{host}",
                summary=f"{'✓ ' if done else ''}{milestone.title} · {project.title}",
                starts_at=milestone.due_at,
                description="\n\n".join(
                    part for part in (project.title, milestone.description) if part
                ),
                url=f"{base}/u/{handle}/{project.slug}",
                alarm_before=None if done else ALARM_BEFORE,
                updated_at=project.updated_at,
            )
        )
    season_ids = {p.season_id for _, p, _ in rows} | set(
        session.execute(select(Enrollment.season_id).where(Enrollment.user_id == user.id))
        .scalars()
        .all()
    )
    seasons = session.execute(
        select(Season).where(col(Season.id).in_(season_ids)).order_by(Season.starts_on)
    ).scalars()
    for season in seasons:
        for edge, day, verb in (
            ("start", season.starts_on, "begins"),
            ("end", season.ends_on, "ends"),
        ):
            events.append(
                CalendarEvent(
                    uid=f"season-{season.id}-{edge}@{host}",
                    summary=f"Season {season.title} {verb}",
                    starts_at=day,
                    url=f"{base}/seasons/{season.slug}",
                    updated_at=season.created_at,
                )
            )
    return events


def render_feed(session: Session, user: User, *, now: datetime) -> tuple[bytes, str]:
    """The feed's bytes and an ETag that changes exactly when the bytes do."""
    body = build_calendar(f"Seasons · {user.display_name}", events_for(session, user), now=now)
    return body, hashlib.sha256(body).hexdigest()[:32]
