"""Demo day: a season's page after its last week, showcasing its public projects.

Order: admin pins first (in pin order), then projects their learners featured
(in the order they were featured), then every other public project (most
milestones done, then latest activity). Only public projects ever appear or
count: drafts and unlisted projects stay out of the cards, the numbers and the
feed, and hidden runs never give a headline value. The whole page is a fixed
number of statements, whatever the number of projects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from flask import url_for
from sqlalchemy import func
from sqlmodel import Session, col, select

from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..models import (
    MemberStatus,
    Milestone,
    Project,
    ProjectMember,
    Season,
    ShowcaseEntry,
    User,
    Visibility,
)
from ..models.showcase import HIGHLIGHT_MAX
from ..page_version import bump_version
from ..public import service as public
from . import public_record, recaps

MAX_PINS = 6
# One line of plain text: no line breaks or other control characters.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


class TooManyPins(DomainError):
    status = 422


def is_demo_day(season: Season, today: date) -> bool:
    """The season page turns into the showcase the day after the season ends."""
    return today > season.ends_on


@dataclass(frozen=True)
class DemoCard:
    """One project on the showcase."""

    project: Project
    owner: User
    headline: tuple[str, float | None]  # (metric, best visible value)
    highlight: str  # the learner's line, shown only while featured
    image_url: str | None
    pinned: bool
    featured: bool
    milestones_done: int
    milestones_total: int


@dataclass(frozen=True)
class SeasonNumbers:
    """ "This season in numbers", from public projects only."""

    learners: int  # accepted members of a public project
    projects: int  # public projects
    shipped: int  # public projects whose last milestone is done
    milestones_done: int
    on_time: int  # done by their due time, over `record_projects` only
    on_time_of: int  # milestones of those projects
    record_projects: int  # public projects whose every member shows the full record


@dataclass(frozen=True)
class DemoDay:
    season: Season
    cards: list[DemoCard]
    numbers: SeasonNumbers
    updated: datetime | None  # the newest change shown: the feed's Last-Modified


def card_image_url(
    project: Project, owner: User, *, has_recap: bool, has_chart: bool
) -> str | None:
    """The picture of a card: the published season recap's image, else the Open Graph chart.

    The recap image carries the progression over the season, which is what a demo
    day is about; a project without a public recap falls back to its chart, and one
    with neither shows no picture rather than a broken one.
    """
    if has_recap:
        return url_for("public.recap_image", handle=owner.handle, slug=project.slug)
    if not has_chart:
        return None
    return url_for("public.og_image", handle=owner.handle, slug=project.slug)


def _milestones(session: Session, ids: list[int]) -> dict[int, list[Milestone]]:
    by_project: dict[int, list[Milestone]] = {pid: [] for pid in ids}
    if ids:
        rows = session.exec(
            select(Milestone)
            .where(col(Milestone.project_id).in_(ids))
            .order_by(Milestone.project_id, Milestone.position, Milestone.due_at, Milestone.id)
        )
        for m in rows:
            by_project[m.project_id].append(m)
    return by_project


def _learners(session: Session, ids: list[int]) -> int:
    if not ids:
        return 0
    return session.exec(
        select(func.count(func.distinct(ProjectMember.user_id))).where(
            col(ProjectMember.project_id).in_(ids),
            ProjectMember.status == MemberStatus.accepted,
        )
    ).one()


def _numbers(session: Session, ids: list[int], plans: dict[int, list[Milestone]]) -> SeasonNumbers:
    open_record = public_record.public_health_projects(session, ids)
    on_time = on_time_of = 0
    for pid in open_record:
        on_time_of += len(plans[pid])
        on_time += sum(1 for m in plans[pid] if m.done_at is not None and m.done_at <= m.due_at)
    return SeasonNumbers(
        learners=_learners(session, ids),
        projects=len(ids),
        shipped=sum(1 for pid in ids if plans[pid] and plans[pid][-1].done_at is not None),
        milestones_done=sum(1 for pid in ids for m in plans[pid] if m.done_at is not None),
        on_time=on_time,
        on_time_of=on_time_of,
        record_projects=len(open_record),
    )


def public_rows(session: Session, season: Season) -> list[tuple[Project, User, ShowcaseEntry]]:
    """The season's public projects with their owner and showcase entry (or None)."""
    return list(
        session.exec(
            select(Project, User, ShowcaseEntry)
            .join(User, col(User.id) == Project.owner_id)
            .outerjoin(ShowcaseEntry, col(ShowcaseEntry.project_id) == Project.id)
            .where(Project.season_id == season.id, Project.visibility == Visibility.public)
        )
    )


def _sort_key(card: DemoCard, entry: ShowcaseEntry | None):
    if card.pinned:
        return (0, entry.pinned_at, 0, 0, card.project.id)
    if card.featured:
        return (1, entry.featured_at, 0, 0, card.project.id)
    activity = card.project.last_activity_at.timestamp()
    return (2, 0, -card.milestones_done, -activity, -card.project.id)


def demo_day(session: Session, season: Season) -> DemoDay:
    """The showcase cards and the season's numbers, in a fixed number of statements."""
    rows = public_rows(session, season)
    ids = [p.id for p, _, _ in rows]
    plans = _milestones(session, ids)
    headlines = public.headlines(session, [p for p, _, _ in rows])
    with_chart = public.charted(session, ids)
    with_recap = recaps.published_recaps(session, ids)
    keyed = []
    for project, owner, entry in rows:
        featured = entry is not None and entry.featured_at is not None
        card = DemoCard(
            project=project,
            owner=owner,
            headline=headlines[project.id],
            highlight=entry.highlight if featured else "",
            image_url=card_image_url(
                project,
                owner,
                has_recap=project.id in with_recap,
                has_chart=project.id in with_chart,
            ),
            pinned=entry is not None and entry.pinned_at is not None,
            featured=featured,
            milestones_done=sum(1 for m in plans[project.id] if m.done_at is not None),
            milestones_total=len(plans[project.id]),
        )
        keyed.append((_sort_key(card, entry), card))
    keyed.sort(key=lambda pair: pair[0])
    stamps = [p.updated_at for p, _, _ in rows]
    stamps += [t for _, _, e in rows if e for t in (e.featured_at, e.pinned_at) if t]
    return DemoDay(
        season=season,
        cards=[card for _, card in keyed],
        numbers=_numbers(session, ids, plans),
        updated=max(stamps, default=None),
    )


# --- Changes: a learner's feature and highlight, an admin's pins -------------------


def clean_highlight(text: str | None) -> str:
    """One line of plain text of at most HIGHLIGHT_MAX characters, trimmed."""
    text = (text or "").strip()
    if _CONTROL.search(text):
        raise DomainError("The highlight must be a single line.", field="highlight")
    if len(text) > HIGHLIGHT_MAX:
        raise DomainError(
            f"Keep the highlight to {HIGHLIGHT_MAX} characters (it has {len(text)}).",
            field="highlight",
        )
    return text


def entry_of(session: Session, project_id: int) -> ShowcaseEntry | None:
    return session.get(ShowcaseEntry, project_id)


def _touch(session: Session, entry: ShowcaseEntry, now: datetime) -> None:
    """Save the entry and mark the project changed: its page cache and the feed's
    Last-Modified move on (an unpin leaves no newer timestamp of its own)."""
    session.add(entry)
    session.flush()
    bump_version(session, entry.project_id, updated_at=now)


def set_feature(
    session: Session,
    project: Project,
    actor: User,
    *,
    featured: bool,
    highlight: str | None,
    now: datetime,
) -> ShowcaseEntry:
    """A member features the project at demo day (or stops), with a one-line highlight."""
    members = session.exec(
        select(ProjectMember.user_id).where(
            ProjectMember.project_id == project.id,
            ProjectMember.status == MemberStatus.accepted,
        )
    ).all()
    if actor.id not in members:
        raise Forbidden("Only the project's members choose its demo-day highlight.")
    text = clean_highlight(highlight)
    entry = entry_of(session, project.id) or ShowcaseEntry(project_id=project.id)
    entry.highlight = text
    if featured and entry.featured_at is None:
        entry.featured_at = now
    elif not featured:
        entry.featured_at = None
    _touch(session, entry, now)
    return entry


# Ids beyond a 32-bit column would be a database error on PostgreSQL, not a miss.
_MAX_ID = 2**31 - 1


def _public_in_season(session: Session, season: Season, project_id: int) -> Project:
    project = session.get(Project, project_id) if 0 < project_id <= _MAX_ID else None
    if project is None or project.season_id != season.id or project.visibility != Visibility.public:
        raise NotFound("There is no public project with that number in this season.")
    return project


def pinned_count(session: Session, season: Season) -> int:
    return session.exec(
        select(func.count())
        .select_from(ShowcaseEntry)
        .join(Project, col(Project.id) == ShowcaseEntry.project_id)
        .where(Project.season_id == season.id, col(ShowcaseEntry.pinned_at).is_not(None))
    ).one()


def pin(session: Session, season: Season, project_id: int, actor: User, now: datetime) -> None:
    """An admin pins a public project of the season to the top of its demo day."""
    if not actor.is_admin:
        raise Forbidden("Only admins pin projects.")
    project = _public_in_season(session, season, project_id)
    entry = entry_of(session, project.id) or ShowcaseEntry(project_id=project.id)
    if entry.pinned_at is not None:
        raise Conflict(f"“{project.title}” is already pinned.")
    if pinned_count(session, season) >= MAX_PINS:
        raise TooManyPins(f"At most {MAX_PINS} projects can be pinned; unpin one first.")
    entry.pinned_at = now
    entry.pinned_by_id = actor.id
    _touch(session, entry, now)


def unpin(session: Session, season: Season, project_id: int, actor: User, now: datetime) -> None:
    """An admin takes a pin off; the project falls back to its featured or usual place."""
    if not actor.is_admin:
        raise Forbidden("Only admins pin projects.")
    project = _public_in_season(session, season, project_id)
    entry = entry_of(session, project.id)
    if entry is None or entry.pinned_at is None:
        raise Conflict(f"“{project.title}” is not pinned.")
    entry.pinned_at = None
    entry.pinned_by_id = None
    _touch(session, entry, now)
