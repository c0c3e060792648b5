"""Seasons: calendar quarters by default, custom cohorts by admins."""

from __future__ import annotations

import re
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ..auth.rules import ValidationError
from ..errors import Conflict, NotFound
from ..models import Enrollment, Season, SeasonKind, User

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$")
MAX_PLAN_ITEMS = 20
MAX_SEASON_DAYS = 366


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """First and last day of a calendar quarter."""
    start = date(year, 3 * (quarter - 1) + 1, 1)
    nxt = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, nxt - timedelta(days=1)


def next_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def quarter_slug(year: int, quarter: int) -> str:
    return f"{year}-q{quarter}"


def default_plan() -> list[dict[str, Any]]:
    """The milestone plan in content/plans/default.toml."""
    path = Path(current_app.config["CONTENT_DIR"]) / "plans" / "default.toml"
    return check_plan(tomllib.loads(path.read_text(encoding="utf-8"))["milestones"])


def check_plan(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validate a plan: 1-20 items, each a title and a week from 1 to 52."""
    if not items:
        raise ValidationError("A plan needs at least one milestone.", field="plan")
    if len(items) > MAX_PLAN_ITEMS:
        raise ValidationError(f"A plan has at most {MAX_PLAN_ITEMS} milestones.", field="plan")
    clean = []
    for item in items:
        title = str(item.get("title", "")).strip()
        week = item.get("week")
        if not title or len(title) > 120:
            raise ValidationError(
                "Each milestone needs a title of at most 120 characters.", field="plan"
            )
        if not isinstance(week, int) or isinstance(week, bool) or not 1 <= week <= 52:
            raise ValidationError(
                f"The week of “{title}” must be a whole number from 1 to 52.", field="plan"
            )
        clean.append(
            {"title": title, "week": week, "description": str(item.get("description", ""))[:500]}
        )
    return sorted(clean, key=lambda i: i["week"])


def ensure_quarter(session: Session, year: int, quarter: int) -> Season:
    """Return the season of a calendar quarter, creating it once even under races."""
    slug = quarter_slug(year, quarter)
    season = get_by_slug(session, slug)
    if season is not None:
        return season
    start, end = quarter_bounds(year, quarter)
    season = Season(
        slug=slug,
        title=f"{year} Q{quarter}",
        kind=SeasonKind.quarter,
        starts_on=start,
        ends_on=end,
        plan=default_plan(),
    )
    try:
        with session.begin_nested():
            session.add(season)
    except IntegrityError:
        # Another process created it first: use theirs.
        season = get_by_slug(session, slug)
        assert season is not None
    return season


def ensure_current_and_next(session: Session, today: date) -> tuple[Season, Season]:
    """The current and next quarter always exist; pages and the rollover job call this."""
    year, quarter = quarter_of(today)
    return ensure_quarter(session, year, quarter), ensure_quarter(
        session, *next_quarter(year, quarter)
    )


def get_by_slug(session: Session, slug: str) -> Season | None:
    return session.exec(select(Season).where(Season.slug == slug)).first()


def require(session: Session, slug: str) -> Season:
    season = get_by_slug(session, slug)
    if season is None:
        raise NotFound("There is no season with that name.")
    return season


def current_season(session: Session, today: date) -> Season:
    return ensure_current_and_next(session, today)[0]


def season_after(session: Session, season: Season) -> Season:
    """The quarter that starts after this season ends (for carrying a project forward)."""
    return ensure_quarter(session, *quarter_of(season.ends_on + timedelta(days=1)))


def list_seasons(session: Session) -> list[Season]:
    return list(session.exec(select(Season).order_by(Season.starts_on.desc(), Season.id)))


def create_cohort(
    session: Session, *, slug: str, title: str, starts_on: date, ends_on: date
) -> Season:
    """Create a custom-dated season for a cohort, with the default plan."""
    slug = (slug or "").strip().lower()
    title = (title or "").strip()
    if not SLUG_RE.match(slug) or "--" in slug:
        raise ValidationError(
            "Use 3-40 lowercase letters, digits and single dashes for the slug.", field="slug"
        )
    if re.fullmatch(r"\d{4}-q[1-4]", slug):
        raise ValidationError("Quarter slugs like 2027-q1 are reserved for quarters.", field="slug")
    if not title or len(title) > 80:
        raise ValidationError("Give the season a title of at most 80 characters.", field="title")
    if ends_on <= starts_on:
        raise ValidationError("The season must end after it starts.", field="ends_on")
    if (ends_on - starts_on).days > MAX_SEASON_DAYS:
        raise ValidationError("A season lasts at most a year.", field="ends_on")
    if get_by_slug(session, slug) is not None:
        raise Conflict("A season with that slug already exists.", field="slug")
    season = Season(
        slug=slug,
        title=title,
        kind=SeasonKind.cohort,
        starts_on=starts_on,
        ends_on=ends_on,
        plan=default_plan(),
    )
    session.add(season)
    session.flush()
    return season


def set_plan(session: Session, season: Season, items: list[dict[str, Any]]) -> Season:
    """Replace a season's plan; projects planned already keep their milestones."""
    season.plan = check_plan(items)
    session.add(season)
    session.flush()
    return season


def parse_plan_text(text: str) -> list[dict[str, Any]]:
    """Read the admin's plan textarea: one "week | title | description" per line."""
    items = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|", 2)]
        if len(parts) < 2 or not parts[0].isdigit():
            raise ValidationError(
                f"Line {n}: write “week | title | description”, e.g. “2 | Proposal | …”.",
                field="plan",
            )
        items.append(
            {
                "week": int(parts[0]),
                "title": parts[1],
                "description": parts[2] if len(parts) > 2 else "",
            }
        )
    return items


def plan_text(season: Season) -> str:
    return "\n".join(
        f"{i['week']} | {i['title']} | {i.get('description', '')}" for i in season.plan
    )


def enroll(session: Session, user: User, season: Season) -> Enrollment:
    """Join a season; joining twice is harmless."""
    existing = session.exec(
        select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.season_id == season.id)
    ).first()
    if existing is not None:
        return existing
    enrollment = Enrollment(user_id=user.id, season_id=season.id)
    session.add(enrollment)
    session.flush()
    return enrollment


def is_enrolled(session: Session, user_id: int, season_id: int) -> bool:
    return (
        session.exec(
            select(Enrollment.id).where(
                Enrollment.user_id == user_id, Enrollment.season_id == season_id
            )
        ).first()
        is not None
    )
