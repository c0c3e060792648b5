"""The organiser view: one season's learners, projects, runs and updates at a glance.

Three tables, one query each whatever the number of learners: the season's
figures (`summary`), the on-time share per milestone of the plan
(`milestone_rows`) and one row per learner and project (`learner_rows`, the
same rows the CSV export writes). Scope: an admin sees every learner enrolled
in the season; a mentor sees only the learners assigned to them for that
season (`mentors.py`), as on the mentor board — a mentor is not an organiser
of other mentors' learners.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, distinct, exists, func, or_, text
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from ..models import (
    Enrollment,
    MemberStatus,
    MentorAssignment,
    Milestone,
    Project,
    ProjectMember,
    RunLink,
    Season,
    Update,
    User,
    Visibility,
)
from ..models.types import UTCDateTime

# The HTML page lists this many learner rows (those needing attention first);
# the CSV export has them all.
PAGE_ROWS = 200


@dataclass(frozen=True)
class LearnerRow:
    handle: str
    display_name: str
    enrolled_at: datetime
    project_title: str | None
    project_slug: str | None
    owner_handle: str | None
    visibility: str | None
    milestones: int
    milestones_done: int
    runs: int
    last_update_at: datetime | None
    quiet: bool

    @property
    def no_run(self) -> bool:
        return self.runs == 0


@dataclass(frozen=True)
class MilestoneRow:
    position: int
    title: str
    projects: int
    due: int
    on_time: int

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.due if self.due else None


@dataclass(frozen=True)
class Summary:
    learners: int
    projects: int
    public: int
    done: int
    no_run: int
    quiet: int


def without_jit(session: Session) -> None:
    """Turn PostgreSQL's JIT off for the rest of this transaction.

    Its cost estimate for these season-wide statements (one subquery per row)
    passes `jit_above_cost`, and compiling took 260 of 360 ms of the learner
    query at 10,000 learners; the statements themselves run in tens of ms.
    SET LOCAL ends with the request's transaction, so nothing else is affected.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text("SET LOCAL jit = off"))


def _learners_in_scope(season: Season, viewer: User):
    """Learner ids the viewer may see in this season (None: everyone enrolled)."""
    if viewer.is_admin:
        return None
    return select(MentorAssignment.learner_id).where(
        MentorAssignment.mentor_id == viewer.id, MentorAssignment.season_id == season.id
    )


def _base_rows(season: Season, viewer: User, now: datetime, quiet_days: int):
    """Learner × project rows with the two attention flags, as a subquery.

    A learner without a project in the season is one row with no project.
    The flags are EXISTS tests answered by the indexes on `project_id`
    (`ix_updates_project_created` for updates): grouped derived tables joined
    here were re-run per row by SQLite (a minute at 10,000 learners).
    """
    members = (
        select(
            ProjectMember.user_id,
            Project.id,
            Project.title,
            Project.slug,
            Project.owner_id,
            Project.visibility,
        )
        .join(Project, Project.id == ProjectMember.project_id)
        .where(Project.season_id == season.id, ProjectMember.status == MemberStatus.accepted)
        .subquery()
    )
    pid = members.c.id
    cutoff = now - timedelta(days=quiet_days)
    no_run = ~exists().where(RunLink.project_id == pid)
    quiet = and_(
        Enrollment.created_at < cutoff,
        ~exists().where(
            Update.project_id == pid,
            Update.author_id == Enrollment.user_id,
            Update.created_at >= cutoff,
        ),
    )
    query = (
        select(
            User.id.label("user_id"),
            User.handle,
            User.display_name,
            Enrollment.created_at.label("enrolled_at"),
            pid.label("project_id"),
            members.c.title,
            members.c.slug,
            members.c.owner_id,
            members.c.visibility,
            case((no_run, 1), else_=0).label("no_run"),
            case((quiet, 1), else_=0).label("quiet"),
        )
        .select_from(Enrollment)
        .join(User, User.id == Enrollment.user_id)
        .outerjoin(members, members.c.user_id == Enrollment.user_id)
        .where(Enrollment.season_id == season.id)
    )
    scope = _learners_in_scope(season, viewer)
    if scope is not None:
        query = query.where(Enrollment.user_id.in_(scope))
    return query


def learner_rows(
    session: Session,
    season: Season,
    viewer: User,
    now: datetime,
    quiet_days: int,
    limit: int | None = None,
) -> list[LearnerRow]:
    """One query: learners needing attention (no run, quiet) first, then by handle.

    The rows are chosen (sorted, limited) first and counted after, so the page's
    200 rows cost 200 rows of counting, not 10,000.
    """
    base = _base_rows(season, viewer, now, quiet_days).subquery()
    attention = base.c.no_run + base.c.quiet
    chosen = select(base, attention.label("attention")).order_by(
        attention.desc(), base.c.handle, base.c.project_id
    )
    if limit is not None:
        chosen = chosen.limit(limit)
    rows = chosen.subquery()
    pid = rows.c.project_id
    total = select(func.count(Milestone.id)).where(Milestone.project_id == pid)
    owner = aliased(User)
    query = (
        select(
            rows,
            owner.handle.label("owner_handle"),
            total.scalar_subquery().label("total"),
            total.where(Milestone.done_at.is_not(None)).scalar_subquery().label("done"),
            select(func.count(RunLink.id))
            .where(RunLink.project_id == pid)
            .scalar_subquery()
            .label("runs"),
            select(func.max(Update.created_at))
            .where(Update.project_id == pid, Update.author_id == rows.c.user_id)
            .scalar_subquery()
            .label("last_update"),
        )
        .outerjoin(owner, owner.id == rows.c.owner_id)
        .order_by(rows.c.attention.desc(), rows.c.handle, pid)
    )
    return [
        LearnerRow(
            handle=r.handle,
            display_name=r.display_name,
            enrolled_at=r.enrolled_at,
            project_title=r.title,
            project_slug=r.slug,
            owner_handle=r.owner_handle,
            visibility=r.visibility,
            milestones=int(r.total or 0),
            milestones_done=int(r.done or 0),
            runs=int(r.runs or 0),
            last_update_at=_as_utc(r.last_update, session),
            quiet=bool(r.quiet),
        )
        for r in session.exec(query)
    ]


def _as_utc(value, session: Session) -> datetime | None:
    """max() in a scalar subquery loses the column type on SQLite (a string comes back)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return UTCDateTime().process_result_value(value, session.get_bind().dialect)


def summary(
    session: Session, season: Season, viewer: User, now: datetime, quiet_days: int
) -> Summary:
    """One aggregate query over the same rows as `learner_rows`."""
    rows = _base_rows(season, viewer, now, quiet_days).subquery()
    pid = rows.c.project_id
    open_ = exists().where(Milestone.project_id == pid, Milestone.done_at.is_(None))
    complete = and_(exists().where(Milestone.project_id == pid), ~open_)
    row = session.exec(
        select(
            func.count(distinct(rows.c.user_id)),
            func.count(distinct(pid)),
            func.count(distinct(case((rows.c.visibility == Visibility.public.value, pid)))),
            func.count(distinct(case((complete, pid)))),
            func.count(distinct(case((rows.c.no_run == 1, rows.c.user_id)))),
            func.count(distinct(case((rows.c.quiet == 1, rows.c.user_id)))),
        )
    ).one()
    return Summary(*(int(v or 0) for v in row))


def milestone_rows(
    session: Session, season: Season, viewer: User, now: datetime
) -> list[MilestoneRow]:
    """On-time share per milestone of the plan (by position and title), one query."""
    due = or_(Milestone.due_at <= now, Milestone.done_at.is_not(None))
    query = (
        select(
            Milestone.position,
            Milestone.title,
            func.count(distinct(Milestone.project_id)),
            func.sum(case((due, 1), else_=0)),
            func.sum(case((Milestone.done_at <= Milestone.due_at, 1), else_=0)),
        )
        .join(Project, Project.id == Milestone.project_id)
        .where(Project.season_id == season.id)
        .group_by(Milestone.position, Milestone.title)
        .order_by(Milestone.position, Milestone.title)
    )
    scope = _learners_in_scope(season, viewer)
    if scope is not None:
        query = query.where(
            Milestone.project_id.in_(
                select(ProjectMember.project_id).where(
                    ProjectMember.user_id.in_(scope),
                    ProjectMember.status == MemberStatus.accepted,
                )
            )
        )
    return [
        MilestoneRow(position, title, int(n), int(d or 0), int(o or 0))
        for position, title, n, d, o in session.exec(query).all()
    ]


# OWASP "CSV injection": a cell a spreadsheet would read as a formula gets a leading quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_HEADER = [
    "handle",
    "name",
    "enrolled_at",
    "project",
    "visibility",
    "milestones_done",
    "milestones",
    "linked_runs",
    "last_update_at",
    "no_linked_run",
    "quiet",
]


def safe_cell(value: object) -> str:
    """A CSV cell as text, quoted against formula injection when it is text."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if not isinstance(value, int) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_lines(rows: list[LearnerRow]) -> Iterator[str]:
    """The learner table as CSV text, a line at a time (header first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: list[object]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(c) for c in cells])
        return buffer.getvalue()

    yield line(CSV_HEADER)
    for r in rows:
        yield line(
            [
                r.handle,
                r.display_name,
                r.enrolled_at,
                r.project_title,
                r.visibility,
                r.milestones_done,
                r.milestones,
                r.runs,
                r.last_update_at,
                r.no_run,
                r.quiet,
            ]
        )
