"""The season gallery: every season with its counts of learners and public projects."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from ..models import Enrollment, Project, Season, Visibility


@dataclass(frozen=True)
class SeasonCard:
    """A season as the gallery shows it."""

    season: Season
    learners: int
    public_projects: int


def season_cards(session: Session) -> list[SeasonCard]:
    """All seasons, newest first, with their counts: one query, whatever the number of seasons."""
    learners = (
        select(func.count(col(Enrollment.id)))
        .where(Enrollment.season_id == Season.id)
        .correlate(Season)
        .scalar_subquery()
    )
    public = (
        select(func.count(col(Project.id)))
        .where(Project.season_id == Season.id, Project.visibility == Visibility.public)
        .correlate(Season)
        .scalar_subquery()
    )
    rows = session.exec(
        select(Season, learners, public).order_by(col(Season.starts_on).desc(), col(Season.id))
    )
    return [SeasonCard(season, n_learners, n_public) for season, n_learners, n_public in rows]
