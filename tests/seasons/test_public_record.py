"""Public pages show progress; health is for the learner, the team, mentors and admins."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from portfolio.models import MemberStatus, ProjectMember, Role, User, Visibility
from portfolio.seasons import milestones, public_record
from portfolio.seasons.mentors import assign
from tests.conftest import csrf_token, login

# Q3 2026 ended before "now" in these tests; its first milestones were left undone.
OLD = (2026, 3)


@pytest.fixture()
def behind(quarter, session, make_user, make_project):
    """A public project with a done milestone and missed ones: health "Behind"."""
    maya = make_user("maya")
    season = quarter(session, *OLD)
    project = make_project(maya, season=season, now=datetime(2026, 7, 1, 9, tzinfo=UTC))
    first = milestones.list_for(session, project.id)[0]
    milestones.complete(session, project, first, note="", now=first.due_at)
    project.visibility = Visibility.public
    session.add(project)
    session.commit()
    return maya, project


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_visitors_see_progress_not_health(app, behind):
    """No "Behind", "Missed" or on-time share for visitors; milestones done instead."""
    html = _page(app.test_client(), "/u/maya/house-prices")
    assert "badge-behind" not in html and "Behind" not in html and "Missed" not in html
    assert "1 of 4 milestones done." in html
    assert "Next deadline" not in html
    profile = _page(app.test_client(), "/u/maya")
    assert "on time" not in profile and "badge-behind" not in profile
    assert "<strong>1</strong> milestones done" in profile


def test_the_team_mentors_and_admins_still_see_health(app, quarter, session, make_user, behind):
    maya, _ = behind
    member = app.test_client()
    login(member, maya)
    assert "badge-behind" in _page(member, "/u/maya/house-prices")
    assert "Missed" in _page(member, "/u/maya/house-prices")
    mentor = app.test_client()
    make_user("dan", role=Role.mentor)
    assign(session, mentor_handle="dan", learner_handle="maya", season=quarter(session, *OLD))
    session.commit()
    login(mentor, session.exec(select(User).where(User.handle == "dan")).one())
    assert "badge-behind" in _page(mentor, "/u/maya/house-prices")
    admin = app.test_client()
    login(admin, make_user("ada", role=Role.admin))
    assert "badge-behind" in _page(admin, "/u/maya/house-prices")
    # A stranger who is signed in is a visitor.
    stranger = app.test_client()
    login(stranger, make_user("bob"))
    assert "badge-behind" not in _page(stranger, "/u/maya/house-prices")


def test_opting_in_shows_the_full_record_and_renews_cached_pages(app, client, session, behind):
    """The setting is a CSRF-protected POST; the cached anonymous page changes at once."""
    maya, project = behind
    visitor = app.test_client()
    assert "badge-behind" not in _page(visitor, "/u/maya/house-prices")  # now cached
    version = project.version
    login(client, maya)
    assert client.post("/settings/record", data={"full_record": "y"}).status_code == 400
    session.expire_all()
    assert session.get(User, maya.id).public_full_record is False
    token = csrf_token(client, "/settings/record")
    response = client.post("/settings/record", data={"full_record": "y", "csrf_token": token})
    assert response.status_code == 303
    session.expire_all()
    assert session.get(User, maya.id).public_full_record is True
    assert session.get(type(project), project.id).version == version + 1
    html = _page(app.test_client(), "/u/maya/house-prices")
    assert "badge-behind" in html and "Missed" in html
    profile = _page(app.test_client(), "/u/maya")
    assert "milestones on time" in profile and "badge-behind" in profile
    # Unticking (the box absent from the form) hides it again.
    client.post("/settings/record", data={"csrf_token": token})
    assert "badge-behind" not in _page(app.test_client(), "/u/maya/house-prices")


def test_team_health_is_public_only_when_every_member_opted_in(app, session, make_user, behind):
    maya, project = behind
    bob = make_user("bob")
    session.add(ProjectMember(project_id=project.id, user_id=bob.id, status=MemberStatus.accepted))
    session.commit()
    with app.app_context():
        public_record.set_full_record(session, session.merge(maya), show=True)
        session.commit()
        assert public_record.public_health_projects(session, [project.id]) == set()
        public_record.set_full_record(session, session.merge(bob), show=True)
        session.commit()
        assert public_record.public_health_projects(session, [project.id]) == {project.id}
    assert "badge-behind" in _page(app.test_client(), "/u/maya/house-prices")


def test_mentor_board_is_unchanged_by_the_public_setting(app, quarter, session, make_user, behind):
    """Mentors see health on their board whatever the learner shows in public."""
    make_user("dan", role=Role.mentor)
    assign(session, mentor_handle="dan", learner_handle="maya", season=quarter(session, *OLD))
    session.commit()
    mentor = app.test_client()
    login(mentor, session.exec(select(User).where(User.handle == "dan")).one())
    board = _page(mentor, "/mentor")
    assert "badge-behind" in board
