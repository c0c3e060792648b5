"""Milestone freezes: copy what a project's results showed when a milestone was reached.

Pages read a run's current snapshot, and every sync replaces it (and deletes the old
one), so "what did the project show at Checkpoint?" can only be answered by a copy.
A freeze holds, per run visible then, its name, tracker, headline value and a small
series of the headline metric. It is written when a milestone is marked done (web or
API, both through ``milestones.complete``) and, for milestones nobody marked done, by
the ``freeze_due_milestones`` job once they are due.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..auth.rules import check_length
from ..charts.thin import thin_series_indices
from ..errors import Conflict, DomainError
from ..models import (
    LinkKind,
    MetricSeries,
    Milestone,
    MilestoneFreeze,
    Project,
    RunLink,
    RunSnapshot,
)
from ..numbers import as_number
from ..tracking.settings import source_name
from ..tracking.snapshots import bump

SERIES_POINTS = 40  # enough for a sparkline; the full series stays with the snapshot
DUE_WINDOW = timedelta(days=7)  # the job freezes open milestones due this recently
MAX_RUNS = 200  # a freeze is one JSON value; a project rarely links more runs


def capture(session: Session, project: Project) -> list[dict[str, Any]]:
    """The visible runs' headline figures now, as plain JSON-ready values."""
    rows = list(
        session.exec(
            select(RunLink, RunSnapshot)
            .join(RunSnapshot, RunSnapshot.id == RunLink.current_snapshot_id)
            .where(
                RunLink.project_id == project.id,
                RunLink.kind == LinkKind.run,
                RunLink.hidden.is_(False),
            )
            .order_by(RunLink.created_at, RunLink.id)
            .limit(MAX_RUNS)
        )
    )
    series: dict[int, list[list[Any]]] = {}
    metric = project.headline_metric
    if metric and rows:
        for snapshot_id, points in session.exec(
            select(MetricSeries.snapshot_id, MetricSeries.points).where(
                col(MetricSeries.snapshot_id).in_([snap.id for _, snap in rows]),
                MetricSeries.key == metric,
            )
        ):
            series[snapshot_id] = _small(points)
    return [
        {
            "link_id": link.id,
            "name": link.label or snap.name or snap.run_id,
            "source": source_name(link.provider),
            "value": as_number(snap.summary.get(metric)) if metric else None,
            "series": series.get(snap.id, []),
        }
        for link, snap in rows
    ]


def _small(points: list[list[Any]]) -> list[list[Any]]:
    """About SERIES_POINTS of a stored series, its shape and gaps kept (charts/thin.py)."""
    clean = [
        [float(x), as_number(y)]
        for x, y in (p[:2] for p in points if len(p) >= 2)
        if as_number(x) is not None
    ]
    keep = thin_series_indices([p[0] for p in clean], [p[1] for p in clean], SERIES_POINTS)
    return [clean[i] for i in keep]


def _fill(freeze: MilestoneFreeze, project: Project, runs: list[dict], now: datetime) -> None:
    freeze.frozen_at = now
    freeze.headline_metric = project.headline_metric
    freeze.headline_goal = str(project.headline_goal)
    freeze.runs = runs


def get(session: Session, milestone_id: int) -> MilestoneFreeze | None:
    return session.exec(
        select(MilestoneFreeze).where(MilestoneFreeze.milestone_id == milestone_id)
    ).first()


def freeze(
    session: Session, project: Project, milestone: Milestone, *, reason: str, now: datetime
) -> MilestoneFreeze:
    """Freeze the milestone's figures unless they already are (caller commits).

    A freeze made at the due time gives way to the one made when the milestone is
    marked done; any other existing freeze stays as it is (reopening and completing
    again is no way around the one re-freeze).
    """
    existing = get(session, milestone.id)
    if existing is not None:
        if existing.reason == "due" and reason == "done":
            _fill(existing, project, capture(session, project), now)
            existing.reason = "done"
            session.add(existing)
            session.flush()
        return existing
    row = MilestoneFreeze(milestone_id=milestone.id, project_id=project.id, reason=reason)
    _fill(row, project, capture(session, project), now)
    try:
        with session.begin_nested():  # another process froze it meanwhile: keep theirs
            session.add(row)
    except IntegrityError:
        return get(session, milestone.id) or row
    return row


def refreeze(
    session: Session, project: Project, milestone: Milestone, *, note: str, now: datetime
) -> MilestoneFreeze:
    """Replace a done milestone's figures with today's, once, with the learner's note."""
    note = check_length(note, field="note", label="Note", max_len=500, required=True)
    if milestone.done_at is None:
        raise DomainError("Only a milestone that is done can be re-frozen.", field="note")
    existing = get(session, milestone.id)
    if existing is not None and existing.refrozen_at is not None:
        raise Conflict(
            f"“{milestone.title}” was already re-frozen on {existing.refrozen_at:%d %b %Y}; "
            "a milestone can be re-frozen only once.",
            field="note",
        )
    row = existing or MilestoneFreeze(milestone_id=milestone.id, project_id=project.id)
    _fill(row, project, capture(session, project), now)
    row.reason = "done"
    row.refrozen_at = now
    row.note = note
    session.add(row)
    bump(session, project, now)  # the public timeline changed: a new page-cache version
    session.add(project)
    session.flush()
    return row


def freeze_due(session: Session, *, now: datetime) -> int:
    """Freeze open milestones that came due in the last DUE_WINDOW and have no freeze.

    Idempotent: a milestone with a freeze is never picked again, so a second run (or
    a second scheduler) writes nothing. Returns how many were frozen.
    """
    due = session.exec(
        select(Milestone, Project)
        .join(Project, Project.id == Milestone.project_id)
        .where(
            Milestone.done_at.is_(None),
            Milestone.due_at <= now,
            Milestone.due_at > now - DUE_WINDOW,
            ~exists().where(MilestoneFreeze.milestone_id == Milestone.id),
        )
        .order_by(Milestone.due_at, Milestone.id)
    ).all()
    for milestone, project in due:
        freeze(session, project, milestone, reason="due", now=now)
    session.flush()
    return len(due)
