"""What public pages show: visible runs, comparisons, charts, profiles, feeds.

Pages read only stored snapshots. Visibility rules come from
projects.access; hidden run links and drafts never reach anyone who may not
see them, in pages, feeds, sitemap, OG images or the export.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from ..markdown import render_markdown
from ..models import (
    LinkKind,
    MemberStatus,
    MetricSeries,
    Milestone,
    Project,
    ProjectMember,
    RunLink,
    RunSnapshot,
    Season,
    User,
    Visibility,
)
from ..seasons import health, public_record
from ..tracking.settings import source_name
from .compare import Comparison, RunRow, compare
from .figures import Figure, build_figures, thumbnail_svg


def visible_runs(
    session: Session, project_id: int, *, include_hidden: bool = False
) -> list[tuple[RunLink, RunSnapshot]]:
    """Run links that have a snapshot, with it; hidden ones only for members."""
    query = (
        select(RunLink, RunSnapshot)
        .join(RunSnapshot, RunSnapshot.id == RunLink.current_snapshot_id)
        .where(RunLink.project_id == project_id, RunLink.kind == LinkKind.run)
        .order_by(RunLink.created_at, RunLink.id)
    )
    if not include_hidden:
        query = query.where(RunLink.hidden.is_(False))
    return list(session.exec(query))


def metric_keys(session: Session, snapshot_ids: list[int]) -> list[str]:
    if not snapshot_ids:
        return []
    return sorted(
        set(
            session.exec(select(MetricSeries.key).where(MetricSeries.snapshot_id.in_(snapshot_ids)))
        )
    )


@dataclass
class Results:
    runs: list[tuple[RunLink, RunSnapshot]]
    comparison: Comparison
    figures: list[Figure]
    metric_keys: list[str]


def results(session: Session, project: Project, *, figures: bool = True) -> Results:
    """The public results section: comparison table and (optionally) charts of visible runs."""
    runs = visible_runs(session, project.id)
    rows = [
        RunRow(
            key=link.id,
            label=link.label or snap.name or snap.run_id,
            state=snap.state,
            url=snap.url,
            started_at=snap.started_at,
            summary=snap.summary,
            config=snap.config,
            source=source_name(link.provider),
        )
        for link, snap in runs
    ]
    keys = metric_keys(session, [snap.id for _, snap in runs])
    return Results(
        runs=runs,
        comparison=compare(rows, headline=project.headline_metric, goal=str(project.headline_goal)),
        figures=build_figures(session, project, runs, keys) if figures else [],
        metric_keys=keys,
    )


def headline_value(session: Session, project: Project) -> tuple[str, float | None]:
    """The best visible run's headline metric, for cards, reminders and OG images."""
    if not project.headline_metric:
        return "", None
    return _headline_of(project, results(session, project, figures=False))


def _headline_of(project: Project, res: Results) -> tuple[str, float | None]:
    if not project.headline_metric:
        return "", None
    best = res.comparison.best_key
    return project.headline_metric, res.comparison.headline_values.get(best) if best else None


@dataclass
class ProfileCard:
    project: Project
    season: Season
    health: health.Health
    stats: health.ProjectStats
    headline: tuple[str, float | None]  # (metric, best visible value)
    thumbnail: str | None  # small SVG of the headline metric, script-free
    show_health: bool = False  # every member opted in to a public full record


def public_projects(session: Session, user: User) -> list[tuple[Project, Season]]:
    """Public projects the user is an accepted member of, newest season first."""
    return list(
        session.exec(
            select(Project, Season)
            .join(ProjectMember, ProjectMember.project_id == Project.id)
            .join(Season, Season.id == Project.season_id)
            .where(
                ProjectMember.user_id == user.id,
                ProjectMember.status == MemberStatus.accepted,
                Project.visibility == Visibility.public,
            )
            .order_by(Season.starts_on.desc(), Project.created_at.desc())
        )
    )


def profile_cards(session: Session, user: User, now: datetime) -> list[ProfileCard]:
    """One card per public project: health, headline metric and thumbnail chart."""
    projects = public_projects(session, user)
    states = health.health_of(session, [p.id for p, _ in projects], now)
    open_health = public_record.public_health_projects(session, [p.id for p, _ in projects])
    cards = []
    for project, season in projects:
        headline, thumbnail = card_extras(session, project)
        cards.append(
            ProfileCard(
                project,
                season,
                *states[project.id],
                headline=headline,
                thumbnail=thumbnail,
                show_health=project.id in open_health,
            )
        )
    return cards


def card_extras(session: Session, project: Project) -> tuple[tuple[str, float | None], str | None]:
    """A project card's headline (metric, best visible value) and thumbnail SVG."""
    res = results(session, project, figures=False)  # the visible runs, loaded once
    return _headline_of(project, res), thumbnail_svg(session, project, res.runs)


@dataclass(frozen=True)
class CardChart:
    """The project whose headline chart is a profile's Open Graph image."""

    project: Project
    owner_handle: str


def card_chart(session: Session, cards: list[ProfileCard]) -> CardChart | None:
    """The newest card that draws a chart: its OG image (the same PNG as the
    project page's) previews the profile; None leaves the site's card."""
    card = next((c for c in cards if c.thumbnail), None)
    if card is None:
        return None
    owner = session.get(User, card.project.owner_id)
    return CardChart(card.project, owner.handle) if owner else None


def write_up(project: Project):
    return render_write_up(project.body_md)


def render_write_up(body_md: str):
    """The write-up as the project page shows it; the editor's preview uses it too."""
    return render_markdown(body_md, toc=True) if body_md.strip() else None


def completed_milestones(session: Session, project_ids: list[int], limit: int = 50):
    if not project_ids:
        return []
    return list(
        session.exec(
            select(Milestone, Project)
            .join(Project, Project.id == Milestone.project_id)
            .where(Milestone.project_id.in_(project_ids), Milestone.done_at.is_not(None))
            .order_by(Milestone.done_at.desc())
            .limit(limit)
        )
    )


def headlines(session: Session, projects: list[Project]) -> dict[int, tuple[str, float | None]]:
    """`headline_value` for many projects in one query: (metric, best visible value) by id.

    Same rule as a single card (hidden runs never count; missing or non-finite
    values never win), so a season's showcase and a project's page agree.
    """
    by_id = {p.id: p for p in projects if p.headline_metric}
    runs: dict[int, list[RunRow]] = {pid: [] for pid in by_id}
    if by_id:
        rows = session.exec(
            select(RunLink, RunSnapshot)
            .join(RunSnapshot, RunSnapshot.id == RunLink.current_snapshot_id)
            .where(
                RunLink.project_id.in_(list(by_id)),
                RunLink.kind == LinkKind.run,
                RunLink.hidden.is_(False),
            )
            .order_by(RunLink.created_at, RunLink.id)
        )
        for link, snap in rows:
            runs[link.project_id].append(
                RunRow(link.id, "", snap.state, "", snap.started_at, snap.summary, {})
            )
    out: dict[int, tuple[str, float | None]] = {p.id: ("", None) for p in projects}
    for pid, project in by_id.items():
        comparison = compare(
            runs[pid], headline=project.headline_metric, goal=str(project.headline_goal)
        )
        best = comparison.best_key
        out[pid] = (project.headline_metric, comparison.headline_values.get(best) if best else None)
    return out


def charted(session: Session, project_ids: list[int]) -> set[int]:
    """The projects, among these, whose visible runs have a metric series (so a chart image)."""
    if not project_ids:
        return set()
    return set(
        session.exec(
            select(RunLink.project_id)
            .join(RunSnapshot, RunSnapshot.id == RunLink.current_snapshot_id)
            .join(MetricSeries, MetricSeries.snapshot_id == RunSnapshot.id)
            .where(
                RunLink.project_id.in_(project_ids),
                RunLink.kind == LinkKind.run,
                RunLink.hidden.is_(False),
            )
            .distinct()
        )
    )
