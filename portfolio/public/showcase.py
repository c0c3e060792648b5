"""The home page's examples: a few public projects of the current season, and the demo.

A visitor who lands on the home page should see what a finished portfolio
looks like before signing up: real project cards (title, learner, headline
metric, thumbnail chart) and, where the operator loaded it, the demo
portfolio.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from flask import current_app
from sqlmodel import Session, col, select

from ..models import Project, Season, User, Visibility
from ..seasons import service as seasons
from .service import card_extras

SHOWCASE_SIZE = 4


@dataclass
class ShowcaseCard:
    project: Project
    owner: User
    headline: tuple[str, float | None]  # (metric, best visible value)
    thumbnail: str | None  # small SVG, script-free (charts.check_svg)


@dataclass
class Showcase:
    season: Season
    cards: list[ShowcaseCard]
    this_season: bool  # False: the season has none yet, so these are earlier seasons'


def showcase(session: Session, today: date, *, size: int = SHOWCASE_SIZE) -> Showcase:
    """Public projects of the current season, newest activity first; else the latest anywhere."""
    season = seasons.current_season(session, today)
    query = (
        select(Project, User)
        .join(User, col(User.id) == Project.owner_id)
        .where(Project.visibility == Visibility.public)
        .order_by(col(Project.last_activity_at).desc(), col(Project.id).desc())
        .limit(size)
    )
    rows = session.exec(query.where(Project.season_id == season.id)).all()
    this_season = bool(rows)
    if not rows:
        rows = session.exec(query).all()
    cards = [
        ShowcaseCard(project, owner, *card_extras(session, project)) for project, owner in rows
    ]
    return Showcase(season, cards, this_season)


@lru_cache(maxsize=4)
def _demo_people(path: str) -> tuple[tuple[str, str, str], ...]:
    try:
        people = tomllib.loads(Path(path).read_text(encoding="utf-8"))["people"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return ()
    return tuple((p["handle"], p["email"], p["role"]) for p in people)


def demo_learner(session: Session) -> User | None:
    """The demo's first learner when the demo is loaded (`flask demo`), else None.

    Matched by handle and the demo's made-up address, so a real person who
    happens to pick the same handle is never presented as the demo.
    """
    path = Path(current_app.config["CONTENT_DIR"]) / "demo" / "people.toml"
    for handle, email, role in _demo_people(str(path)):
        if role != "learner":
            continue
        user = session.exec(select(User).where(User.handle == handle)).first()
        return user if user is not None and user.email == email.lower() else None
    return None
