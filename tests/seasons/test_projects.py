"""Planning projects, teams, slugs, permissions and carrying forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import select

from portfolio.auth import service as accounts
from portfolio.auth.rules import ValidationError
from portfolio.models import (
    Enrollment,
    MemberStatus,
    Milestone,
    Project,
    ProjectMember,
    Role,
    Season,
    Visibility,
)
from portfolio.projects import service as projects
from portfolio.seasons import milestones
from portfolio.seasons import service as seasons
from portfolio.seasons.mentors import assign
from tests.conftest import csrf_token, login


def _count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_learner_plans_a_project_in_the_browser_flow(client, session, make_user, login_as, ctx):
    """Join the current season, plan a project, get the plan, see it on the dashboard."""
    maya = make_user("maya", timezone="America/Los_Angeles")
    login_as(maya)
    now = datetime.now(UTC)
    slug = seasons.quarter_slug(*seasons.quarter_of(now.date()))
    page = client.get(f"/seasons/{slug}")
    join = client.post(
        f"/seasons/{slug}/join", data={"csrf_token": csrf_token(client, f"/seasons/{slug}")}
    )
    assert page.status_code == 200 and join.status_code == 302
    response = client.post(
        f"/projects/new?season={slug}",
        data={
            "title": "Housing <b>policy</b> simulation",
            "summary": "How affordable units shift median income",
            "problem_md": "Does **zoning** matter?\n\n<script>alert(1)</script>",
            "repo_url": "https://github.com/maya/housing",
            "csrf_token": csrf_token(client, "/projects/new"),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/u/maya/housing-b-policy-b-simulation"
    project = session.exec(select(Project)).one()
    plan = milestones.list_for(session, project.id)
    assert [m.title for m in plan] == ["Proposal", "Checkpoint", "Final write-up", "Demo"]
    # 23:59 in Los Angeles is 06:59 or 07:59 UTC the next day.
    assert all(m.due_at.astimezone(UTC).minute == 59 for m in plan)
    assert {m.due_at.astimezone(UTC).hour for m in plan} <= {6, 7}
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Housing &lt;b&gt;policy&lt;/b&gt; simulation" in html
    assert "<script>alert(1)</script>" not in html
    assert "<strong>zoning</strong>" in html
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Next deadline" in dashboard and "Proposal" in dashboard
    assert _count(session, Enrollment) == 1


def test_bad_project_input_writes_nothing(client, session, make_user, login_as):
    login_as(make_user("maya"))
    for fields, message in [
        ({"title": ""}, "This field is required"),
        ({"title": "t" * 121}, "Field cannot be longer than 120"),
        ({"repo_url": "javascript:alert(1)"}, "must be an http(s) URL"),
        ({"team": "nobody-here"}, "no one with the handle @nobody-here"),
        ({"problem_md": "x" * 100_001}, "Field cannot be longer than 100000"),
    ]:
        data = {"title": "Valid title", "csrf_token": csrf_token(client, "/projects/new")}
        data.update(fields)
        response = client.post("/projects/new", data=data)
        assert response.status_code == 422, fields
        assert message in response.get_data(as_text=True), fields
    assert _count(session, Project) == 0
    assert _count(session, Milestone) == 0


def test_second_project_needs_confirmation(client, session, make_user, login_as, make_project):
    maya = make_user("maya")
    make_project(maya)
    login_as(maya)
    data = {"title": "Another one", "csrf_token": csrf_token(client, "/projects/new")}
    warned = client.post("/projects/new", data=data)
    assert warned.status_code == 422
    assert "already have a project this season" in warned.get_data(as_text=True)
    assert _count(session, Project) == 1
    data = {
        "title": "Another one",
        "allow_second": "y",
        "csrf_token": csrf_token(client, "/projects/new"),
    }
    assert client.post("/projects/new", data=data).status_code == 302
    assert _count(session, Project) == 2


def test_team_member_accepts_and_can_edit(app, client, session, make_user, login_as, make_project):
    maya, tom = make_user("maya"), make_user("tom")
    project = make_project(maya, team=["@tom"])
    assert (
        session.exec(select(ProjectMember.status).where(ProjectMember.user_id == tom.id)).one()
        == MemberStatus.invited
    )
    login_as(tom)
    assert (
        client.get(f"/u/maya/{project.slug}/edit").status_code == 404
    )  # a draft they cannot see yet
    invitation = session.exec(select(ProjectMember).where(ProjectMember.user_id == tom.id)).one()
    answer = client.post(
        f"/invitations/{invitation.id}/accept",
        data={"csrf_token": csrf_token(client, "/invitations")},
    )
    assert answer.status_code == 302
    assert client.get(f"/u/maya/{project.slug}/edit").status_code == 200
    # The team project is reachable from the member's handle too.
    assert client.get(f"/u/tom/{project.slug}").status_code == 301
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert project.title in dashboard


def test_slug_rename_redirects_and_stays_reserved(
    client, session, make_user, login_as, make_project
):
    maya = make_user("maya")
    project = make_project(maya, title="First idea")
    login_as(maya)
    response = client.post(
        f"/u/maya/{project.slug}/edit",
        data={
            "title": "Better idea",
            "slug": "better-idea",
            "summary": "",
            "problem_md": "",
            "repo_url": "",
            "visibility": "public",
            "csrf_token": csrf_token(client, f"/u/maya/{project.slug}/edit"),
        },
    )
    assert response.status_code == 302
    old = client.get("/u/maya/first-idea")
    assert old.status_code == 301 and old.headers["Location"] == "/u/maya/better-idea"
    # A new project titled like the old slug does not steal the redirect.
    other = make_project(maya, title="First idea", allow_second=True)
    assert other.slug == "first-idea-2"


def test_edit_rejects_bad_slug_and_visibility(client, session, make_user, login_as, make_project):
    maya = make_user("maya")
    project = make_project(maya)
    make_project(maya, title="Taken", allow_second=True)
    login_as(maya)
    for fields, message in [
        ({"slug": "Bad Slug!"}, "lowercase letters"),
        ({"slug": "taken"}, "already use that address"),
        ({"visibility": "secret"}, "Not a valid choice"),
    ]:
        data = {
            "title": "T",
            "slug": project.slug,
            "visibility": "draft",
            "csrf_token": csrf_token(client, f"/u/maya/{project.slug}/edit"),
        }
        data.update(fields)
        response = client.post(f"/u/maya/{project.slug}/edit", data=data)
        assert response.status_code == 422, fields
        assert message in response.get_data(as_text=True), fields
    session.expire_all()
    assert session.get(Project, project.id).title == "House prices"


def test_draft_visibility_rules(app, client, session, make_user, make_project):
    """Drafts: 404 to strangers and visitors, readable by mentors, editable by admins."""
    maya = make_user("maya")
    project = make_project(maya)
    url = f"/u/maya/{project.slug}"
    assert client.get(url).status_code == 404
    stranger = make_user("stranger")
    mentor = make_user("dan-mentor", role=Role.mentor)
    admin = make_user("boss", role=Role.admin)
    season = session.get(Season, project.season_id)
    assign(session, mentor_handle="dan-mentor", learner_handle="maya", season=season)
    session.commit()
    for user, view, edit in [(stranger, 404, 404), (mentor, 200, 403), (admin, 200, 200)]:
        c = app.test_client()
        login(c, user)
        assert c.get(url).status_code == view, user.handle
        assert c.get(url + "/edit").status_code == edit, user.handle
    project = session.get(Project, project.id)
    project.visibility = Visibility.public
    session.add(project)
    session.commit()
    assert client.get(url).status_code == 200
    c = app.test_client()
    login(c, stranger)
    assert c.get(url + "/edit").status_code == 403


def test_milestone_add_move_complete_delete(client, session, make_user, login_as, make_project):
    maya = make_user("maya", timezone="Europe/Berlin")
    project = make_project(maya)
    login_as(maya)
    base = f"/u/maya/{project.slug}"
    token = csrf_token(client, base)
    plan = milestones.list_for(session, project.id)
    season = session.get(Season, project.season_id)
    day = season.starts_on + timedelta(days=20)
    added = client.post(
        base + "/milestones",
        data={"title": "Data cleaned", "due_date": day.isoformat(), "csrf_token": token},
    )
    assert added.status_code == 302
    new = session.exec(select(Milestone).where(Milestone.title == "Data cleaned")).one()
    local = new.due_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.date(), local.hour, local.minute) == (day, 23, 59)
    moved = client.post(
        f"{base}/milestones/{plan[0].id}",
        data={
            "title": "Proposal v2",
            "due_date": day.isoformat(),
            "due_time": "18:00",
            "csrf_token": token,
        },
    )
    assert moved.status_code == 302
    session.expire_all()
    first = session.get(Milestone, plan[0].id)
    assert first.title == "Proposal v2"
    assert first.due_at.astimezone(ZoneInfo("Europe/Berlin")).hour == 18
    done = client.post(
        f"{base}/milestones/{plan[1].id}/done", data={"note": "baseline 0.81", "csrf_token": token}
    )
    assert done.status_code == 302
    session.expire_all()
    assert session.get(Milestone, plan[1].id).done_note == "baseline 0.81"
    gone = plan[2].id
    deleted = client.post(f"{base}/milestones/{gone}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302
    session.expire_all()
    assert session.exec(select(Milestone).where(Milestone.id == gone)).first() is None


def test_milestone_bad_dates_change_nothing(
    app, client, session, make_user, login_as, make_project
):
    maya = make_user("maya")
    project = make_project(maya)
    login_as(maya)
    base = f"/u/maya/{project.slug}"
    token = csrf_token(client, base)
    before = _count(session, Milestone)
    season = session.get(Season, project.season_id)
    too_late = (season.ends_on + timedelta(days=31)).isoformat()
    for day, message in [
        ("2027-02-30", "real date"),
        ("not-a-date", "real date"),
        (too_late, "too far after the season ends"),
    ]:
        response = client.post(
            base + "/milestones", data={"title": "X", "due_date": day, "csrf_token": token}
        )
        assert response.status_code == 422, day
        assert message in response.get_data(as_text=True), day
    assert _count(session, Milestone) == before
    # Someone else cannot delete one: the draft is invisible to them (404).
    other = app.test_client()
    login(other, make_user("other"))
    plan = milestones.list_for(session, project.id)
    response = other.post(
        f"{base}/milestones/{plan[0].id}/delete",
        data={"csrf_token": csrf_token(other, "/dashboard")},
    )
    assert response.status_code == 404
    assert _count(session, Milestone) == before


def test_timezone_change_keeps_instants(session, make_user, make_project, ctx):
    """A new time zone keeps deadlines at the same instant; new ones use the new zone."""
    maya = make_user("maya", timezone="Asia/Tokyo")
    project = make_project(maya)
    before = [m.due_at for m in milestones.list_for(session, project.id)]
    maya = session.merge(maya)
    accounts.update_profile(
        session, maya, display_name="Maya", handle="maya", timezone="America/New_York", bio=""
    )
    session.commit()
    assert [m.due_at for m in milestones.list_for(session, project.id)] == before
    season = session.get(Season, project.season_id)
    added = milestones.add(
        session,
        project,
        season,
        title="New",
        day=season.starts_on + timedelta(days=10),
        at=None,
        tz_name=maya.timezone,
        now=datetime.now(UTC),
    )
    assert added.due_at.astimezone(UTC).hour in (3, 4)  # 23:59 New York


def test_carry_forward_keeps_write_up_and_leaves_missed(
    quarter, session, make_user, make_project, ctx
):
    maya = make_user("maya")
    old_season = quarter(session, 2025, 3)
    project = make_project(maya, season=old_season, now=datetime(2025, 7, 2, tzinfo=UTC))
    project.body_md = "# What I learned"
    session.add(project)
    session.commit()
    new = projects.carry_forward(
        session, project, actor=session.merge(maya), now=datetime(2025, 10, 3, tzinfo=UTC)
    )
    session.commit()
    assert new.season_id != project.season_id
    assert new.body_md == "# What I learned" and new.carried_from_id == project.id
    assert len(milestones.list_for(session, new.id)) == 4
    assert all(m.done_at is None for m in milestones.list_for(session, project.id))
    with pytest.raises(Exception, match="already carried"):
        projects.carry_forward(
            session, project, actor=session.merge(maya), now=datetime(2025, 10, 3, tzinfo=UTC)
        )


def test_unknown_team_handle_is_a_validation_error(quarter, session, make_user, ctx):
    maya = make_user("maya")
    season = quarter(session, 2027, 1)
    with pytest.raises(ValidationError, match="@ghost"):
        projects.create(
            session,
            owner=session.merge(maya),
            season=season,
            fields=projects.ProjectFields("T"),
            team_handles=["ghost"],
            allow_second=False,
            now=datetime(2027, 1, 2, tzinfo=UTC),
        )
    session.rollback()
    assert _count(session, Project) == 0
