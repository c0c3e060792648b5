"""The organiser view: scope, figures, the days filter, the CSV export and query counts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from portfolio.models import Enrollment, Milestone, Project, Role, RunLink, Update, Visibility
from portfolio.seasons import service as seasons
from portfolio.seasons.mentors import assign
from portfolio.seasons.organiser import safe_cell
from tests.conftest import login
from tests.queries import page_statements


def _season(app, session):
    with app.app_context():
        season = seasons.ensure_current_and_next(session, datetime.now(UTC).date())[0]
        session.commit()
    return season


def _run(session, project: Project) -> None:
    session.add(RunLink(project_id=project.id, ref=f"ent/proj/r{project.id}"))
    session.commit()


def _update(session, project: Project, author, days_ago: int) -> None:
    when = datetime.now(UTC) - timedelta(days=days_ago)
    session.add(Update(project_id=project.id, author_id=author.id, body_md="x", created_at=when))
    session.commit()


@pytest.fixture()
def cohort(app, session, make_user, make_project):
    """Three learners: busy (run, fresh update), quiet (no run, old update), idle (no project)."""
    season = _season(app, session)
    busy, quiet, idle = make_user("busy"), make_user("quiet"), make_user("idle")
    p_busy = make_project(busy, title="Busy project", season=season)
    p_quiet = make_project(quiet, title='=HYPERLINK("http://x")', season=season)
    _run(session, p_busy)
    _update(session, p_busy, busy, 1)
    _update(session, p_quiet, quiet, 30)
    with app.app_context():
        seasons.enroll(session, session.merge(idle), season)
        session.commit()
    # Busy and quiet joined 40 days ago; idle just now, so is not counted quiet yet.
    for enrollment in session.exec(
        select(Enrollment).where(Enrollment.user_id.in_([busy.id, quiet.id]))
    ):
        enrollment.created_at = datetime.now(UTC) - timedelta(days=40)
    project = session.get(Project, p_busy.id)
    project.visibility = Visibility.public
    stones = session.exec(
        select(Milestone).where(Milestone.project_id == p_busy.id).order_by(Milestone.position)
    ).all()
    for m in stones:
        m.done_at = m.due_at - timedelta(hours=1)
    session.commit()
    return season, busy, quiet, idle


def test_learners_and_anonymous_are_refused(client, make_user):
    assert client.get("/organiser").status_code == 302
    login(client, make_user("maya"))
    assert client.get("/organiser").status_code == 403
    assert client.get("/organiser.csv").status_code == 403


def test_admin_sees_every_learner_and_the_figures(client, make_user, cohort):
    season, *_ = cohort
    login(client, make_user("boss", role=Role.admin))
    page = client.get(f"/organiser?season={season.slug}&days=14")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # learners 3, projects 2, public 1, done 1, without a run 2 (quiet, idle), quiet 1
    assert "<td>3</td><td>2</td><td>1</td><td>1</td><td>2</td><td>1</td>" in html
    assert "&#34;http://x&#34;" in html or "&quot;http://x&quot;" in html
    for handle in ("@busy", "@quiet", "@idle"):
        assert handle in html
    # Those needing attention come first.
    assert html.index("@idle") < html.index("@busy")
    assert html.index("@quiet") < html.index("@busy")
    # The busy project met every milestone; its share shows per milestone.
    assert "100%" in html


def test_the_default_days_is_14_and_a_longer_window_clears_the_quiet(client, make_user, cohort):
    login(client, make_user("boss", role=Role.admin))
    assert "No update in 14 days" in client.get("/organiser").get_data(as_text=True)
    html = client.get("/organiser?days=60").get_data(as_text=True)
    assert "<td>2</td><td>0</td></tr>" in html  # no run: 2, quiet: 0


def test_a_mentor_sees_only_their_learners(app, session, client, make_user, cohort):
    season, busy, quiet, idle = cohort
    make_user("dan", role=Role.mentor)
    with app.app_context():
        assign(session, mentor_handle="dan", learner_handle="quiet", season=season)
        session.commit()
    login(client, session.exec(select(type(busy)).where(type(busy).handle == "dan")).one())
    html = client.get("/organiser").get_data(as_text=True)
    assert "@quiet" in html
    assert "@busy" not in html and "@idle" not in html
    assert "<td>1</td><td>1</td><td>0</td><td>0</td><td>1</td><td>1</td>" in html
    rows = list(csv.reader(io.StringIO(client.get("/organiser.csv").get_data(as_text=True))))
    assert [r[0] for r in rows[1:]] == ["quiet"]
    assert "Organiser view" in client.get("/mentor").get_data(as_text=True)


@pytest.mark.parametrize("days", ["abc", "0", "-3", "366", "", "1e3", "99999999999999999999"])
def test_bad_days_are_a_form_error(client, make_user, days):
    login(client, make_user("boss", role=Role.admin))
    page = client.get("/organiser", query_string={"days": days})
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'class="error"' in html
    assert "Season figures" not in html
    export = client.get("/organiser.csv", query_string={"days": days})
    assert export.status_code == 400
    assert export.mimetype == "text/plain"
    assert "No update for (days)" in export.get_data(as_text=True)


def test_an_unknown_season_is_a_form_error(client, make_user):
    login(client, make_user("boss", role=Role.admin))
    page = client.get("/organiser?season=no-such-season")
    assert page.status_code == 400
    assert "Not a valid choice" in page.get_data(as_text=True)


def test_csv_export_has_every_row_and_is_safe_in_a_spreadsheet(
    app, session, client, make_user, cohort
):
    season, busy, quiet, _ = cohort
    evil = session.merge(quiet)
    evil.display_name = "@SUM(1+1)"
    session.commit()
    login(client, make_user("boss", role=Role.admin))
    export = client.get(f"/organiser.csv?season={season.slug}&days=14")
    assert export.status_code == 200
    assert export.mimetype == "text/csv"
    assert "attachment" in export.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert rows[0][:4] == ["handle", "name", "enrolled_at", "project"]
    by_handle = {r[0]: r for r in rows[1:]}
    assert set(by_handle) == {"busy", "quiet", "idle"}
    assert by_handle["quiet"][1] == "'@SUM(1+1)"
    assert by_handle["quiet"][3] == '\'=HYPERLINK("http://x")'
    assert by_handle["quiet"][9:] == ["yes", "yes"]
    assert by_handle["busy"][7:][0] == "1"
    assert by_handle["idle"][3] == ""


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        (3, "3"),
        (None, ""),
        (True, "yes"),
    ],
)
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell


def test_the_page_runs_as_many_queries_for_50_learners_as_for_5(
    app, session, client, make_user, make_project
):
    season = _season(app, session)
    admin = make_user("boss", role=Role.admin)
    login(client, admin)

    def statements_for(n: int, offset: int) -> tuple[int, int]:
        for i in range(n):
            user = make_user(f"learner-{offset + i}")
            project = make_project(user, season=season)
            if i % 2:
                _run(session, project)
                _update(session, project, user, i)
        paths = ("/organiser", "/organiser.csv")
        engine = app.extensions["engine"]
        return page_statements(client, engine, paths, shows=f"learner-{offset}")

    small = statements_for(5, 0)
    large = statements_for(45, 100)  # 50 learners in all
    assert small == large
