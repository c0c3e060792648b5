"""The page version is bumped in the UPDATE itself, so concurrent bumps all count."""

from __future__ import annotations

from sqlmodel import Session

from portfolio.models import Project
from portfolio.page_version import bump_version, bump_versions


def test_two_sessions_that_read_the_same_version_both_count(app, make_user, make_project):
    project_id = make_project(make_user()).id
    engine = app.extensions["engine"]
    with Session(engine) as first, Session(engine) as second:
        a, b = first.get(Project, project_id), second.get(Project, project_id)
        assert a is not None and b is not None
        start = a.version
        assert b.version == start  # both have read the same number
        bump_version(first, project_id)
        first.commit()
        bump_version(second, project_id)  # a read-modify-write would write start + 1 again
        second.commit()
        assert b.version == start + 2  # the loaded object shows the new number
    with Session(engine) as check:
        assert check.get(Project, project_id).version == start + 2


def test_loaded_project_sees_its_bump_and_pending_changes_survive(app, make_user, make_project):
    project_id = make_project(make_user()).id
    with Session(app.extensions["engine"]) as session:
        project = session.get(Project, project_id)
        start = project.version
        project.title = "Renamed"
        bump_version(session, project_id)
        assert project.version == start + 1
        assert project.title == "Renamed"
        bump_versions(session, [project_id])
        session.commit()  # expires everything: the next read is fresh
        assert project.version == start + 2 and project.title == "Renamed"
