"""Keep project_search in step with what a stranger may see of each project.

Maintained by a session event rather than calls sprinkled through the
services: projects, write-ups, runs (hidden or not, new snapshots), tags,
learner names and seasons change in many places (views, API, sync, import,
the demo), and a forgotten call would leak a draft or keep a stale one. At
flush we note which projects the flushed objects touch; just before the
commit we rewrite their rows in the same transaction, so the index commits
(or rolls back) with the change itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup
from sqlalchemy import delete, event, exists, func, inspect
from sqlmodel import Session, select

from ..markdown import render_markdown
from ..models import (
    LinkKind,
    MemberStatus,
    Project,
    ProjectMember,
    ProjectSearch,
    ProjectTag,
    RunLink,
    RunSnapshot,
    Season,
    User,
    Visibility,
    utcnow,
)

DIRTY_KEY = "search_dirty_projects"


def plain_text(markdown_text: str) -> str:
    """The text a reader sees, without markup (the index and snippets use it)."""
    if not markdown_text.strip():
        return ""
    try:
        return Markup(render_markdown(markdown_text)).striptags()
    except Exception:  # too long or unparsable: index the source rather than nothing
        return markdown_text


def document(session: Session, project: Project) -> ProjectSearch | None:
    """The index row of a project, or None when it is not public."""
    if project.visibility != Visibility.public:
        return None
    season = session.get(Season, project.season_id)
    people = session.exec(
        select(User.display_name, User.handle)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .where(
            ProjectMember.project_id == project.id,
            ProjectMember.status == MemberStatus.accepted,
        )
    ).all()
    tags = session.exec(select(ProjectTag.label).where(ProjectTag.project_id == project.id)).all()
    run_tags = session.exec(
        select(RunSnapshot.tags)
        .join(RunLink, RunLink.current_snapshot_id == RunSnapshot.id)
        .where(
            RunLink.project_id == project.id,
            RunLink.kind == LinkKind.run,
            RunLink.hidden.is_(False),
        )
    ).all()
    words = [project.summary, season.title if season else ""]
    words += [f"{name} {handle}" for name, handle in people]
    words += list(tags) + sorted({str(t) for ts in run_tags for t in (ts or [])})
    return ProjectSearch(
        project_id=project.id,
        title=project.title,
        meta=" · ".join(w for w in words if w),
        body="\n".join(filter(None, (plain_text(project.problem_md), plain_text(project.body_md)))),
        updated_at=utcnow(),
    )


def refresh(session: Session, project_ids: Iterable[int]) -> None:
    """Rewrite (or drop) the index rows of these projects from their current state."""
    ids = sorted({i for i in project_ids if i is not None})
    if not ids:
        return
    session.execute(delete(ProjectSearch).where(ProjectSearch.project_id.in_(ids)))
    rows = []
    for project in session.exec(select(Project).where(Project.id.in_(ids))):
        doc = document(session, project)
        if doc is not None:
            rows.append(doc.model_dump())
    if rows:
        session.execute(ProjectSearch.__table__.insert(), rows)


def reindex(session: Session) -> int:
    """Rebuild the whole index (`flask search reindex`); returns the rows written."""
    session.execute(delete(ProjectSearch))
    ids = list(session.exec(select(Project.id).where(Project.visibility == Visibility.public)))
    for start in range(0, len(ids), 200):
        refresh(session, ids[start : start + 200])
    return session.execute(select(func.count()).select_from(ProjectSearch)).scalar_one()


def fill_if_missing(session: Session) -> bool:
    """Build the index when it is empty but public projects exist (after an upgrade)."""
    has_rows = session.execute(select(exists().select_from(ProjectSearch))).scalar()
    if has_rows:
        return False
    public = session.execute(
        select(exists().where(Project.visibility == Visibility.public))
    ).scalar()
    if not public:
        return False
    reindex(session)
    return True


def _touched(session: Session, obj: object) -> set[int]:
    """The projects whose public text an added, changed or deleted object may change."""
    if isinstance(obj, Project):
        return {obj.id}
    if isinstance(obj, (RunLink, ProjectTag, ProjectMember)):
        return {obj.project_id}
    if isinstance(obj, User):
        return set(
            session.exec(select(ProjectMember.project_id).where(ProjectMember.user_id == obj.id))
        )
    if isinstance(obj, Season):
        return set(session.exec(select(Project.id).where(Project.season_id == obj.id)))
    return set()


def _after_flush(session: Session, _context) -> None:
    dirty: set[int] = session.info.setdefault(DIRTY_KEY, set())
    for obj in [*session.new, *session.dirty, *session.deleted]:
        # Only names show in the index; skip the many unrelated user updates.
        if isinstance(obj, User | Season) and obj in session.dirty and not _name_changed(obj):
            continue
        with session.no_autoflush:
            dirty |= _touched(session, obj)


def _name_changed(obj: User | Season) -> bool:
    """Whether a name the index shows changed (history still holds it in after_flush)."""
    attrs = inspect(obj).attrs
    names = ("display_name", "handle") if isinstance(obj, User) else ("title",)
    return any(attrs[n].history.has_changes() for n in names)


def _before_commit(session: Session) -> None:
    session.flush()
    for _ in range(3):  # a refresh flushes nothing of its own; three rounds are plenty
        ids = session.info.pop(DIRTY_KEY, set())
        if not ids:
            return
        refresh(session, ids)
        session.flush()


def init_events() -> None:
    """Listen on every session (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_rollback", _forget)


def _forget(session: Session) -> None:
    session.info.pop(DIRTY_KEY, None)
