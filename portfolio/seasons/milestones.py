"""Milestones: seeded from the season's plan, then edited by project members."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from ..auth.rules import ValidationError, check_length
from ..errors import NotFound
from ..models import Milestone, Project, Season
from ..notify.reminders import cancel_reminders
from ..page_version import bump_version
from ..timeutil import END_OF_DAY, local_to_utc, to_local, week_due
from . import freezes

# A due date may sit a little outside its season, but not far.
GRACE_AFTER_END = timedelta(days=30)
GRACE_BEFORE_START = timedelta(days=30)
MAX_MILESTONES = 30


# Joining when a plan milestone is less than this far away counts as joining late.
LATE_JOIN_LEAD = timedelta(days=7)


def plan_due_dates(season: Season, tz_name: str, now: datetime) -> tuple[list[datetime], bool]:
    """Due instants of the season's plan for someone joining now, and whether they were fitted.

    On time (every plan milestone at least LATE_JOIN_LEAD away): the plan's own
    dates, the same for the whole cohort. Late: the plan keeps its shape but is
    fitted to the days left, each milestone at the same fraction of the way from
    today to the season's last day as it had from the first day. Fitted dates
    are never earlier than the plan's, so a late joiner starts on track instead
    of with milestones that were missed before they arrived.
    """
    plain = [
        week_due(season.starts_on, season.ends_on, item["week"], tz_name) for item in season.plan
    ]
    today = to_local(now, tz_name).date()
    on_time = not plain or min(plain) >= now + LATE_JOIN_LEAD
    # Before the season starts the plan is the plan; after it ends there is no time to fit.
    if on_time or today <= season.starts_on or today > season.ends_on:
        return plain, False
    length = (season.ends_on - season.starts_on).days + 1
    left = (season.ends_on - today).days
    fitted = []
    for item in season.plan:
        share = min(7 * item["week"], length) / length
        day = today + timedelta(days=math.ceil(left * share))
        fitted.append(local_to_utc(day, END_OF_DAY, tz_name))
    return fitted, True


def seed_from_plan(
    session: Session, project: Project, season: Season, tz_name: str, *, now: datetime
) -> bool:
    """Give a new project its season's plan, due in the owner's time zone.

    Returns True when the plan was fitted to a late join (see plan_due_dates).
    """
    dues, fitted = plan_due_dates(season, tz_name, now)
    for position, (item, due_at) in enumerate(zip(season.plan, dues, strict=True)):
        session.add(
            Milestone(
                project_id=project.id,
                title=item["title"],
                description=item.get("description", ""),
                position=position,
                due_at=due_at,
            )
        )
    session.flush()
    return fitted


def list_for(session: Session, project_id: int) -> list[Milestone]:
    return list(
        session.exec(
            select(Milestone)
            .where(Milestone.project_id == project_id)
            .order_by(Milestone.due_at, Milestone.position, Milestone.id)
        )
    )


def get(session: Session, project: Project, milestone_id: int) -> Milestone:
    milestone = session.get(Milestone, milestone_id)
    if milestone is None or milestone.project_id != project.id:
        raise NotFound("That milestone is not part of this project.")
    return milestone


def due_instant(season: Season, *, day: date | None, at: time | None, tz_name: str) -> datetime:
    """Check a due date against the season and turn it into UTC."""
    if day is None:
        raise ValidationError("Give a real date, e.g. 2027-03-14.", field="due_date")
    latest = season.ends_on + GRACE_AFTER_END
    earliest = season.starts_on - GRACE_BEFORE_START
    if day > latest:
        raise ValidationError(
            f"That is too far after the season ends ({season.ends_on:%d %b %Y}); "
            f"pick a date on or before {latest:%d %b %Y}.",
            field="due_date",
        )
    if day < earliest:
        raise ValidationError(
            f"That is too long before the season starts; pick {earliest:%d %b %Y} or later.",
            field="due_date",
        )
    return local_to_utc(day, at or END_OF_DAY, tz_name)


def _touch(session: Session, project: Project, now: datetime) -> None:
    bump_version(session, project.id)
    project.updated_at = project.last_activity_at = now


def _checked(
    season: Season, *, title: str, day: date | None, at: time | None, tz_name: str
) -> tuple[str, datetime]:
    """Validate the fields ``add`` and ``update`` both take, so both refuse alike."""
    title = check_length(title, field="title", label="Title", max_len=120, required=True)
    return title, due_instant(season, day=day, at=at, tz_name=tz_name)


def _save(session: Session, project: Project, milestone: Milestone, now: datetime) -> None:
    """Store a changed milestone and mark its project changed (public pages re-render)."""
    session.add(milestone)
    _touch(session, project, now)
    session.add(project)
    session.flush()


def add(
    session: Session,
    project: Project,
    season: Season,
    *,
    title: str,
    day: date | None,
    at: time | None,
    tz_name: str,
    now: datetime,
) -> Milestone:
    title, due = _checked(season, title=title, day=day, at=at, tz_name=tz_name)
    count = session.exec(
        select(func.count()).select_from(Milestone).where(Milestone.project_id == project.id)
    ).one()
    if count >= MAX_MILESTONES:
        raise ValidationError(f"A project has at most {MAX_MILESTONES} milestones.", field="title")
    milestone = Milestone(project_id=project.id, title=title, position=count, due_at=due)
    _save(session, project, milestone, now)
    return milestone


def update(
    session: Session,
    project: Project,
    season: Season,
    milestone: Milestone,
    *,
    title: str,
    day: date | None,
    at: time | None,
    tz_name: str,
    now: datetime,
) -> Milestone:
    """Rename or move a milestone; moving it re-arms its reminders (new due time)."""
    title, due_at = _checked(season, title=title, day=day, at=at, tz_name=tz_name)
    if due_at != milestone.due_at:
        # Unsent reminders for the old time go; the next sweep arms the new ones.
        cancel_reminders(session, milestone.id)
    milestone.due_at = due_at
    milestone.title = title
    _save(session, project, milestone, now)
    return milestone


def complete(
    session: Session, project: Project, milestone: Milestone, *, note: str, now: datetime
) -> Milestone:
    note = check_length(note, field="note", label="Note", max_len=500, required=False)
    if milestone.done_at is None:
        milestone.done_at = now
        cancel_reminders(session, milestone.id)
    milestone.done_note = note
    _save(session, project, milestone, now)
    # What the results showed now is kept for the progress timeline (later syncs
    # replace the snapshots); a milestone that already has its figures keeps them.
    freezes.freeze(session, project, milestone, reason="done", now=now)
    return milestone


def reopen(session: Session, project: Project, milestone: Milestone, *, now: datetime) -> None:
    milestone.done_at = None
    milestone.done_note = ""
    _save(session, project, milestone, now)


def delete(session: Session, project: Project, milestone: Milestone, *, now: datetime) -> None:
    cancel_reminders(session, milestone.id)
    session.delete(milestone)
    _touch(session, project, now)
    session.add(project)
    session.flush()
