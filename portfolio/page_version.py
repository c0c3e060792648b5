"""The one way to mark a project's public page as changed.

The anonymous page cache is keyed by `projects.version` (public/page_cache.py). A
read-modify-write (`project.version += 1`) loses a bump when a sync and an edit run at
once, so the increment is computed in the UPDATE itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import update as sql_update
from sqlmodel import Session, col

from .models import Project


def bump_version(session: Session, project_id: int, **values: Any) -> None:
    """Add one to a project's version atomically; `values` are set in the same UPDATE.

    A loaded project is refreshed at once (not just expired), so code that keeps it
    after the session closes still reads the new number.
    """
    _update(session, col(Project.id) == project_id, values)
    loaded = session.identity_map.get(session.identity_key(Project, project_id))
    if loaded is not None:
        session.refresh(loaded, ["version", *values])


def bump_versions(session: Session, project_ids: Any) -> None:
    """Add one to the version of every project whose id is in `project_ids` (a subquery).

    Loaded projects keep their old number; callers that read it again expire them.
    """
    _update(session, col(Project.id).in_(project_ids), {})


def _update(session: Session, where: ColumnElement[bool], values: dict[str, Any]) -> None:
    session.execute(
        sql_update(Project)
        .where(where)
        .values(version=Project.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
