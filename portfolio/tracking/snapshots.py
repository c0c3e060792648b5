"""Write run snapshots: the only data pages read, swapped in whole or not at all.

``replace_snapshot`` inserts the new snapshot and its metric series, points the link at it,
and only then deletes the link's older snapshots, inside the caller's transaction: a reader
sees the old snapshot or the new one, never half of one, and a failure before the commit
leaves the old one untouched (the rollback removes the new rows).

Values are made storable on every backend: PostgreSQL's JSON cannot hold NaN or ±inf, so
summary and config keep them as the strings "NaN", "Infinity" and "-Infinity" (pages show
those as such), and chart points carry ``null`` where the metric was not finite. Text is
cut to the column sizes so one absurd run can never fail a sync on PostgreSQL.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from ..models import LinkKind, MetricSeries, Project, RunLink, RunSnapshot
from ..numbers import as_number, format_value
from ..page_version import bump_version
from .downsample import Series
from .provider import RunData
from .values import clean_text

MAX_KEY = 300  # MetricSeries.key
MAX_URL = 500  # RunSnapshot.url


def storable(value: Any) -> Any:
    """Return a JSON value PostgreSQL accepts: non-finite floats become W&B's strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def storable_mapping(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Apply ``storable`` to each value of a flat mapping."""
    return {str(k): storable(v) for k, v in mapping.items()}


def points_of(series: Series) -> list[list[Any]]:
    """Return ``[[step, y | None], ...]``: integral steps as ints, non-finite y as None."""
    out: list[list[Any]] = []
    for x, y in zip(series.x.tolist(), series.y.tolist(), strict=True):
        out.append([int(x) if x.is_integer() else x, y if math.isfinite(y) else None])
    return out


def new_snapshot(link_id: int, run: RunData, now: datetime) -> RunSnapshot:
    """Map a provider's run onto a snapshot row, cut to the column sizes."""
    url = run.url or ""
    return RunSnapshot(
        run_link_id=link_id,
        fetched_at=now,
        run_id=clean_text(run.run_id, 128),
        name=clean_text(run.name, 1000),
        state=clean_text(run.state, 32),
        url=url if len(url) <= MAX_URL else "",  # a cut URL would point somewhere else
        started_at=run.created_at,
        heartbeat_at=run.heartbeat_at,
        summary=storable_mapping(run.summary),
        config=storable_mapping(run.config),
        tags=[clean_text(t, 200) for t in run.tags],
    )


def add_snapshot(
    session: Session, link: RunLink, run: RunData, series: Mapping[str, Series], now: datetime
) -> RunSnapshot:
    """Insert a snapshot of ``link`` with its metric series, not yet pointed at (caller commits)."""
    snapshot = new_snapshot(link.id, run, now)
    session.add(snapshot)
    session.flush()
    session.add_all(
        MetricSeries(
            snapshot_id=snapshot.id,
            key=key,
            points=points_of(data),
            original_count=data.original_count,
        )
        for key, data in series.items()
        if len(key) <= MAX_KEY  # longer names were already cut by values.metric_keys
    )
    session.flush()
    return snapshot


def replace_snapshot(
    session: Session, link: RunLink, run: RunData, series: Mapping[str, Series], now: datetime
) -> RunSnapshot:
    """Store a whole new snapshot for ``link``, then drop its older ones (caller commits)."""
    snapshot = add_snapshot(session, link, run, series, now)
    link.current_snapshot_id = snapshot.id
    session.add(link)
    session.flush()
    delete_snapshots(session, [link.id], keep=snapshot.id)
    return snapshot


def delete_snapshots(session: Session, link_ids: Collection[int], keep: int | None = None) -> None:
    """Delete the snapshots (and their series) of ``link_ids``, except ``keep``."""
    if not link_ids:
        return
    old = select(RunSnapshot.id).where(col(RunSnapshot.run_link_id).in_(link_ids))
    if keep is not None:
        old = old.where(RunSnapshot.id != keep)
    delete_snapshot_ids(session, list(session.exec(old)))


def delete_snapshot_ids(session: Session, snapshot_ids: Collection[int]) -> None:
    """Delete these snapshots and their series."""
    ids = list(snapshot_ids)
    if ids:
        session.execute(delete(MetricSeries).where(col(MetricSeries.snapshot_id).in_(ids)))
        session.execute(delete(RunSnapshot).where(col(RunSnapshot.id).in_(ids)))


def delete_links(session: Session, link_ids: Iterable[int]) -> None:
    """Delete links with their snapshots and series, without relying on FK cascades."""
    ids = list(link_ids)
    if ids:
        delete_snapshots(session, ids)
        session.execute(delete(RunLink).where(col(RunLink.id).in_(ids)))


def bump(session: Session, project: Project, now: datetime) -> None:
    """Mark the public page as changed (its cache key is the version)."""
    bump_version(session, project.id)
    project.updated_at = now


def headline_metrics(session: Session, project_ids: Collection[int]) -> dict[int, str]:
    """Return each project's best visible headline value, formatted ("val/acc 0.912")."""
    if not project_ids:
        return {}
    rows = session.exec(
        select(Project.id, Project.headline_metric, Project.headline_goal, RunSnapshot.summary)
        .join(RunLink, RunLink.project_id == Project.id)
        .join(RunSnapshot, RunSnapshot.id == RunLink.current_snapshot_id)
        .where(
            col(Project.id).in_(list(project_ids)),
            Project.headline_metric != "",
            RunLink.kind == LinkKind.run.value,
            col(RunLink.hidden).is_(False),
        )
    )
    best: dict[int, tuple[str, float]] = {}
    for project_id, metric, goal, summary in rows:
        value = as_number((summary or {}).get(metric))
        if value is None:
            continue
        current = best.get(project_id)
        better = current is None or (value < current[1] if goal == "min" else value > current[1])
        if better:
            best[project_id] = (metric, value)
    return {pid: f"{metric} {format_value(value)}" for pid, (metric, value) in best.items()}
