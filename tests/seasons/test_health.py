"""Cadence health from data, the learner record, and the mentor board."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from portfolio.models import Project, Role
from portfolio.seasons import health, milestones
from portfolio.seasons.mentors import assign, mentor_board
from tests.conftest import login
from tests.queries import statements


def _state(session, app, project, now):
    with app.app_context():
        return health.health_of(session, [project.id], now)[project.id][0]


def test_health_moves_through_its_states(quarter, app, session, make_user, make_project):
    """On track → at risk (due in 3 days) → behind (past due) → done."""
    season = quarter(session, 2027, 1)
    start = datetime(2027, 1, 1, 9, tzinfo=UTC)
    project = make_project(make_user("maya"), season=season, now=start)
    plan = milestones.list_for(session, project.id)
    first_due = plan[0].due_at
    assert _state(session, app, project, start + timedelta(days=2)) == health.Health.on_track
    assert _state(session, app, project, first_due - timedelta(days=2)) == health.Health.at_risk
    assert _state(session, app, project, first_due + timedelta(minutes=1)) == health.Health.behind
    for m in plan:
        milestones.complete(session, project, m, note="", now=m.due_at - timedelta(hours=1))
    session.commit()
    assert _state(session, app, project, first_due + timedelta(days=1)) == health.Health.done


def test_no_activity_for_14_days_is_at_risk(quarter, app, session, make_user, make_project):
    season = quarter(session, 2027, 1)
    start = datetime(2027, 1, 1, 9, tzinfo=UTC)
    project = make_project(make_user("maya"), season=season, now=start)
    plan = milestones.list_for(session, project.id)
    milestones.complete(session, project, plan[0], note="", now=start + timedelta(days=3))
    session.commit()
    quiet = start + timedelta(days=3 + 14)
    assert quiet < plan[1].due_at - timedelta(days=3)
    assert _state(session, app, project, quiet - timedelta(days=1)) == health.Health.on_track
    assert _state(session, app, project, quiet) == health.Health.at_risk


def test_thresholds_are_settings(quarter, app, session, make_user, make_project):
    season = quarter(session, 2027, 1)
    start = datetime(2027, 1, 1, 9, tzinfo=UTC)
    project = make_project(make_user("maya"), season=season, now=start)
    due = milestones.list_for(session, project.id)[0].due_at
    app.config["HEALTH_AT_RISK_DAYS"] = 10
    assert _state(session, app, project, due - timedelta(days=9)) == health.Health.at_risk


def test_learner_record(quarter, app, session, make_user, make_project):
    """Two completed seasons in a row, then one with a missed milestone."""
    maya = make_user("maya")
    now = datetime(2027, 8, 1, tzinfo=UTC)
    for year, q, on_time in [(2026, 3, True), (2026, 4, False), (2027, 1, True), (2027, 2, True)]:
        season = quarter(session, year, q)
        project = make_project(
            maya,
            season=season,
            now=datetime.combine(season.starts_on, datetime.min.time(), UTC),
            allow_second=True,
            title=f"P{year}{q}",
        )
        for m in milestones.list_for(session, project.id):
            if on_time or m.position == 0:
                milestones.complete(session, project, m, note="", now=m.due_at - timedelta(hours=1))
        session.commit()
    with app.app_context():
        record = health.learner_record(session, maya.id, now)
    assert record.seasons_completed == 3
    assert record.streak == 2
    assert record.on_time_share == 13 / 16


def test_mentor_board_puts_behind_then_at_risk_first(
    quarter, app, client, session, make_user, make_project
):
    season = quarter(session, 2027, 1)
    start = datetime(2027, 1, 1, 9, tzinfo=UTC)
    mentor = make_user("dan", role=Role.mentor)
    learners = {}
    for handle in ("ahead", "late", "close"):
        learners[handle] = make_user(handle)
        make_project(learners[handle], season=season, now=start, title=f"{handle} project")
        assign(session, mentor_handle="dan", learner_handle=handle, season=season)
        session.commit()
    late = next(iter(milestones.list_for(session, _project_of(session, learners["late"]).id)))
    close = milestones.list_for(session, _project_of(session, learners["close"]).id)[0]
    now = close.due_at - timedelta(days=1)
    late.due_at = now - timedelta(days=1)
    session.add(late)
    ahead = milestones.list_for(session, _project_of(session, learners["ahead"]).id)[0]
    ahead.due_at = now + timedelta(days=20)
    session.add(ahead)
    session.commit()
    with app.app_context():
        board = mentor_board(session, session.merge(mentor), now)
    assert [(row.learner.handle, row.health) for row in board] == [
        ("late", health.Health.behind),
        ("close", health.Health.at_risk),
        ("ahead", health.Health.on_track),
    ]


def test_mentor_board_query_count_does_not_grow(quarter, app, session, make_user, make_project):
    """The board costs the same number of SQL statements for 2 or 12 learners (no N+1)."""
    season = quarter(session, 2027, 1)
    start = datetime(2027, 1, 1, 9, tzinfo=UTC)
    mentor = make_user("dan", role=Role.mentor)

    def statements_for(n_learners: int, offset: int) -> int:
        for i in range(n_learners):
            handle = f"learner-{offset + i}"
            make_project(make_user(handle), season=season, now=start)
            assign(session, mentor_handle="dan", learner_handle=handle, season=season)
            session.commit()
        with statements(session.get_bind()) as seen, app.app_context():
            rows = mentor_board(session, session.merge(mentor), start)
        assert rows
        return len(seen)

    small = statements_for(2, 0)
    large = statements_for(10, 100)
    assert small == large <= 4


def test_mentor_page_requires_mentor(app, client, session, make_user, make_project):
    login(client, make_user("maya"))
    assert client.get("/mentor").status_code == 403
    c = app.test_client()
    login(c, make_user("dan", role=Role.mentor))
    page = c.get("/mentor")
    assert page.status_code == 200
    assert "No learners are assigned" in page.get_data(as_text=True)


def _project_of(session, user) -> Project:
    return session.exec(select(Project).where(Project.owner_id == user.id)).one()
