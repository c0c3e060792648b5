"""Joining late: the season's plan is fitted to the days left, so nothing starts missed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from portfolio.seasons import health, milestones
from portfolio.timeutil import week_due
from tests.conftest import csrf_token, login


def _plain(season, tz="UTC"):
    return [week_due(season.starts_on, season.ends_on, i["week"], tz) for i in season.plan]


def test_on_time_joiner_gets_the_cohort_dates(quarter, session, make_user, make_project, ctx):
    """Joining on the first day keeps the plan's own dates, the same for everyone."""
    season = quarter(session, 2027, 1)
    project = make_project(
        make_user("maya"), season=season, now=datetime(2027, 1, 1, 9, tzinfo=UTC)
    )
    dues = [m.due_at for m in milestones.list_for(session, project.id)]
    assert dues == _plain(season)


def test_joining_30_days_before_the_end_starts_on_track(
    quarter, app, session, make_user, make_project, ctx
):
    """Proposal and Checkpoint are past in the plan; the fitted plan has none overdue."""
    season = quarter(session, 2027, 1)  # 1 Jan – 31 Mar 2027
    now = datetime(2027, 3, 2, 10, tzinfo=UTC)  # 30 days left
    maya = make_user("maya")
    project = make_project(maya, season=season, now=now)
    plan = milestones.list_for(session, project.id)
    dues = [m.due_at for m in plan]
    assert [m.title for m in plan] == [i["title"] for i in season.plan]
    assert all(d > now for d in dues)
    assert dues == sorted(dues)
    # Fitted, never earlier than the plan, and the last milestone stays on the last day.
    assert all(f >= p for f, p in zip(dues, _plain(season), strict=True))
    assert dues[-1] == datetime(2027, 3, 31, 23, 59, tzinfo=UTC)
    # Proposal at 2/13 of the way through the 29 days after today: 5 days later.
    assert dues[0] == datetime(2027, 3, 7, 23, 59, tzinfo=UTC)
    state, stats = health.health_of(session, [project.id], now)[project.id]
    assert state == health.Health.on_track and stats.overdue == 0
    record = health.learner_record(session, maya.id, now)
    assert record.on_time_share is None  # nothing was due yet, so nothing was missed


def test_first_milestone_less_than_a_week_away_counts_as_late(
    quarter, session, make_user, make_project, ctx
):
    season = quarter(session, 2027, 1)
    proposal = _plain(season)[0]  # Thu 14 Jan 23:59
    tz = "UTC"
    early, fitted_early = milestones.plan_due_dates(season, tz, proposal - timedelta(days=8))
    late, fitted_late = milestones.plan_due_dates(season, tz, proposal - timedelta(days=3))
    assert (early, fitted_early) == (_plain(season), False)
    assert fitted_late and late[0] > proposal


def test_fitting_uses_the_owners_day_and_zone(quarter, session, ctx):
    """Due at 23:59 in the owner's zone, on days counted in that zone."""
    season = quarter(session, 2027, 1)
    # 23:30 UTC on 1 Mar is already 2 Mar in Tokyo.
    dues, fitted = milestones.plan_due_dates(
        season, "Asia/Tokyo", datetime(2027, 3, 1, 23, 30, tzinfo=UTC)
    )
    assert fitted
    last = dues[-1].astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    assert (last.date(), last.hour, last.minute) == (date(2027, 3, 31), 23, 59)


def test_after_the_season_ended_the_plan_is_not_fitted(quarter, session, ctx):
    season = quarter(session, 2027, 1)
    dues, fitted = milestones.plan_due_dates(season, "UTC", datetime(2027, 5, 1, tzinfo=UTC))
    assert (dues, fitted) == (_plain(season), False)


def test_last_day_joiner_gets_everything_due_that_day(quarter, session, ctx):
    season = quarter(session, 2027, 1)
    dues, fitted = milestones.plan_due_dates(season, "UTC", datetime(2027, 3, 31, 8, tzinfo=UTC))
    assert fitted and set(dues) == {datetime(2027, 3, 31, 23, 59, tzinfo=UTC)}


def test_planning_late_says_the_plan_was_fitted(client, session, make_user, monkeypatch):
    """The view tells a late joiner why their dates differ from the season page."""
    import portfolio.projects.views as project_views

    monkeypatch.setattr(project_views, "utcnow", lambda: datetime(2027, 3, 2, 10, tzinfo=UTC))
    login(client, make_user("maya"))
    token = csrf_token(client, "/projects/new")
    response = client.post("/projects/new", data={"title": "Late but keen", "csrf_token": token})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You joined with 30 days left" in html
    assert "Missed" not in html and "Behind" not in html
