"""Cadence health, computed from milestones and activity (never stored).

Per project: done (every milestone done), behind (a milestone past due and
not done), at risk (the next milestone is due within AT_RISK_DAYS and not
done, or nothing happened for STALE_DAYS), otherwise on track. Per learner:
seasons completed, share of milestones done on time, streak of consecutive
completed seasons. One aggregate query answers for any number of projects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from flask import current_app
from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, select

from ..models import MemberStatus, Milestone, Project, ProjectMember, Season
from ..models.types import UTCDateTime


class Health(StrEnum):
    behind = "behind"
    at_risk = "at_risk"
    on_track = "on_track"
    done = "done"

    @property
    def label(self) -> str:
        return {"behind": "Behind", "at_risk": "At risk", "on_track": "On track", "done": "Done"}[
            self.value
        ]


# Sort order for mentor lists: who needs help first.
URGENCY = {Health.behind: 0, Health.at_risk: 1, Health.on_track: 2, Health.done: 3}


@dataclass(frozen=True)
class Thresholds:
    at_risk_days: int = 3
    stale_days: int = 14

    @classmethod
    def from_config(cls) -> Thresholds:
        return cls(
            at_risk_days=current_app.config["HEALTH_AT_RISK_DAYS"],
            stale_days=current_app.config["HEALTH_STALE_DAYS"],
        )


@dataclass(frozen=True)
class ProjectStats:
    project_id: int
    total: int
    done: int
    overdue: int
    next_due_at: datetime | None
    last_activity_at: datetime


def classify(stats: ProjectStats, now: datetime, limits: Thresholds) -> Health:
    if stats.total and stats.done == stats.total:
        return Health.done
    if stats.overdue:
        return Health.behind
    if stats.next_due_at is not None and stats.next_due_at - now <= timedelta(
        days=limits.at_risk_days
    ):
        return Health.at_risk
    if now - stats.last_activity_at >= timedelta(days=limits.stale_days):
        return Health.at_risk
    return Health.on_track


def project_stats(
    session: Session, project_ids: list[int], now: datetime
) -> dict[int, ProjectStats]:
    """Milestone counts, overdue count and next deadline per project, in one query."""
    if not project_ids:
        return {}
    open_ = Milestone.done_at.is_(None)
    rows = session.exec(
        select(
            Project.id,
            func.count(Milestone.id),
            func.count(Milestone.done_at),
            func.sum(case((and_(open_, Milestone.due_at < now), 1), else_=0)),
            func.min(case((and_(open_, Milestone.due_at >= now), Milestone.due_at))),
            Project.last_activity_at,
        )
        .outerjoin(Milestone, Milestone.project_id == Project.id)
        .where(Project.id.in_(project_ids))
        .group_by(Project.id, Project.last_activity_at)
    ).all()
    to_utc = UTCDateTime().process_result_value
    dialect = session.get_bind().dialect
    return {
        pid: ProjectStats(
            project_id=pid,
            total=total,
            done=done,
            overdue=int(overdue or 0),
            next_due_at=_as_utc(to_utc, nxt, dialect),
            last_activity_at=last,
        )
        for pid, total, done, overdue, nxt, last in rows
    }


def _as_utc(convert, value, dialect) -> datetime | None:
    """min() over a CASE loses the column type; SQLite returns a string then."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return convert(value, dialect)


def health_of(
    session: Session, project_ids: list[int], now: datetime
) -> dict[int, tuple[Health, ProjectStats]]:
    limits = Thresholds.from_config()
    return {
        pid: (classify(stats, now, limits), stats)
        for pid, stats in project_stats(session, project_ids, now).items()
    }


@dataclass(frozen=True)
class LearnerRecord:
    seasons_completed: int
    on_time_share: float | None  # None: nothing was due yet
    streak: int
    milestones_done: int = 0


def learner_record(session: Session, user_id: int, now: datetime) -> LearnerRecord:
    """Across the learner's seasons: completions, on-time share and current streak."""
    rows = session.exec(
        select(
            Season.id,
            Season.ends_on,
            func.count(Milestone.id),
            func.count(Milestone.done_at),
            func.sum(case((Milestone.done_at <= Milestone.due_at, 1), else_=0)),
            func.sum(
                case((or_(Milestone.due_at <= now, Milestone.done_at.is_not(None)), 1), else_=0)
            ),
        )
        .select_from(ProjectMember)
        .join(Project, Project.id == ProjectMember.project_id)
        .join(Season, Season.id == Project.season_id)
        .outerjoin(Milestone, Milestone.project_id == Project.id)
        .where(ProjectMember.user_id == user_id, ProjectMember.status == MemberStatus.accepted)
        .group_by(Season.id, Season.ends_on)
        .order_by(Season.ends_on)
    ).all()
    completed_flags: list[bool] = []
    on_time = due = done_count = 0
    for _sid, ends_on, total, done, in_time, due_by_now in rows:
        done_count += done
        complete = bool(total) and done == total
        on_time += int(in_time or 0)
        due += int(due_by_now or 0)
        if ends_on < now.date() or complete:
            completed_flags.append(complete)
    streak = 0
    for flag in reversed(completed_flags):
        if not flag:
            break
        streak += 1
    return LearnerRecord(
        seasons_completed=sum(completed_flags),
        on_time_share=(on_time / due) if due else None,
        streak=streak,
        milestones_done=done_count,
    )
