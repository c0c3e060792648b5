"""Quarters, time zones, cohort seasons and plans."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlmodel import select

from portfolio.auth.rules import ValidationError
from portfolio.errors import Conflict
from portfolio.models import Season
from portfolio.seasons import service as seasons
from portfolio.timeutil import local_to_utc, week_due
from tests.conftest import csrf_token


@pytest.mark.parametrize(
    ("day", "slug", "start", "end"),
    [
        (date(2027, 1, 1), "2027-q1", date(2027, 1, 1), date(2027, 3, 31)),
        (date(2027, 3, 31), "2027-q1", date(2027, 1, 1), date(2027, 3, 31)),
        (date(2027, 4, 1), "2027-q2", date(2027, 4, 1), date(2027, 6, 30)),
        (date(2027, 12, 31), "2027-q4", date(2027, 10, 1), date(2027, 12, 31)),
        (date(2028, 2, 29), "2028-q1", date(2028, 1, 1), date(2028, 3, 31)),
    ],
)
def test_quarter_boundaries(day, slug, start, end):
    year, q = seasons.quarter_of(day)
    assert seasons.quarter_slug(year, q) == slug
    assert seasons.quarter_bounds(year, q) == (start, end)


def test_next_quarter_wraps_the_year():
    assert seasons.next_quarter(2027, 4) == (2028, 1)


def test_current_and_next_created_once(session, ctx):
    """Asking twice creates the two seasons once, with the default plan."""
    first = seasons.ensure_current_and_next(session, date(2027, 12, 15))
    second = seasons.ensure_current_and_next(session, date(2027, 12, 15))
    session.commit()
    assert [s.slug for s in first] == ["2027-q4", "2028-q1"]
    assert [s.id for s in first] == [s.id for s in second]
    assert len(session.exec(select(Season)).all()) == 2
    assert [i["title"] for i in first[0].plan] == [
        "Proposal",
        "Checkpoint",
        "Final write-up",
        "Demo",
    ]


def test_week_due_is_2359_local_and_clamped_to_season_end():
    due = week_due(date(2027, 1, 1), date(2027, 3, 31), 2, "Europe/Berlin")
    assert due == datetime(2027, 1, 14, 22, 59, tzinfo=UTC)
    # Week 13 would end on 1 April; the season ends on 31 March.
    last = week_due(date(2027, 1, 1), date(2027, 3, 31), 13, "UTC")
    assert last == datetime(2027, 3, 31, 23, 59, tzinfo=UTC)


def test_deadline_at_2359_los_angeles_across_dst():
    """23:59 in Los Angeles is 07:59 UTC before the March DST change, 06:59 after."""
    before = local_to_utc(date(2027, 3, 13), time(23, 59), "America/Los_Angeles")
    after = local_to_utc(date(2027, 3, 15), time(23, 59), "America/Los_Angeles")
    assert before == datetime(2027, 3, 14, 7, 59, tzinfo=UTC)
    assert after == datetime(2027, 3, 16, 6, 59, tzinfo=UTC)


def test_leap_year_counts_29_february(quarter, session, ctx):
    """Week 9 ends on 3 March in a leap year and on 4 March otherwise."""
    leap = quarter(session, 2028, 1)
    plain = quarter(session, 2027, 1)
    assert week_due(leap.starts_on, leap.ends_on, 9, "UTC") == datetime(
        2028, 3, 3, 23, 59, tzinfo=UTC
    )
    assert week_due(plain.starts_on, plain.ends_on, 9, "UTC") == datetime(
        2027, 3, 4, 23, 59, tzinfo=UTC
    )
    assert leap.ends_on - leap.starts_on > plain.ends_on - plain.starts_on


def test_cohort_season_rules(session, ctx):
    season = seasons.create_cohort(
        session,
        slug="spring-cohort",
        title="Spring cohort",
        starts_on=date(2027, 3, 1),
        ends_on=date(2027, 5, 23),
    )
    session.commit()
    assert season.kind == "cohort" and len(season.plan) == 4
    with pytest.raises(ValidationError, match="end after it starts"):
        seasons.create_cohort(
            session,
            slug="backwards",
            title="B",
            starts_on=date(2027, 5, 1),
            ends_on=date(2027, 4, 1),
        )
    with pytest.raises(Conflict):
        seasons.create_cohort(
            session,
            slug="spring-cohort",
            title="Again",
            starts_on=date(2027, 6, 1),
            ends_on=date(2027, 8, 1),
        )
    with pytest.raises(ValidationError, match="reserved for quarters"):
        seasons.create_cohort(
            session, slug="2027-q3", title="Q", starts_on=date(2027, 7, 1), ends_on=date(2027, 9, 1)
        )


def test_plan_text_round_trip_and_errors(quarter, session, ctx):
    season = quarter(session, 2027, 2)
    items = seasons.parse_plan_text("1 | Kick-off | say hello\n\n6 | Midpoint |")
    seasons.set_plan(session, season, items)
    assert seasons.plan_text(season) == "1 | Kick-off | say hello\n6 | Midpoint | "
    for bad, message in [
        ("two | Proposal", "week | title"),
        ("60 | Far away", "from 1 to 52"),
        ("3 | " + "x" * 121, "at most 120"),
        ("", "at least one"),
    ]:
        with pytest.raises(ValidationError, match=message):
            seasons.set_plan(session, season, seasons.parse_plan_text(bad))


def test_admin_creates_cohort_and_edits_plan(client, session, make_user, login_as):
    login_as(make_user("boss", role="admin"))
    bad = client.post(
        "/admin/seasons",
        data={
            "slug": "cohort-a",
            "title": "Cohort A",
            "starts_on": "2027-05-01",
            "ends_on": "2027-04-01",
            "csrf_token": csrf_token(client, "/admin/seasons"),
        },
    )
    assert bad.status_code == 422
    assert "end after it starts" in bad.get_data(as_text=True)
    not_a_date = client.post(
        "/admin/seasons",
        data={
            "slug": "cohort-a",
            "title": "Cohort A",
            "starts_on": "2027-02-30",
            "ends_on": "2027-04-01",
            "csrf_token": csrf_token(client, "/admin/seasons"),
        },
    )
    assert not_a_date.status_code == 422
    assert "real date" in not_a_date.get_data(as_text=True)
    assert seasons.get_by_slug(session, "cohort-a") is None
    ok = client.post(
        "/admin/seasons",
        data={
            "slug": "cohort-a",
            "title": "Cohort A",
            "starts_on": "2027-03-01",
            "ends_on": "2027-05-23",
            "csrf_token": csrf_token(client, "/admin/seasons"),
        },
    )
    assert ok.status_code == 302
    plan = client.post(
        "/admin/seasons/cohort-a/plan",
        data={
            "plan": "1 | Hello |\n12 | Demo day |",
            "csrf_token": csrf_token(client, "/admin/seasons"),
        },
    )
    assert plan.status_code == 302
    session.expire_all()
    assert [i["title"] for i in seasons.get_by_slug(session, "cohort-a").plan] == [
        "Hello",
        "Demo day",
    ]


def test_season_pages(client, session, ctx):
    assert client.get("/seasons").status_code == 200
    today = datetime.now(UTC).date()
    slug = seasons.quarter_slug(*seasons.quarter_of(today))
    page = client.get(f"/seasons/{slug}")
    assert page.status_code == 200
    assert "days left in this season" in page.get_data(as_text=True)
    assert client.get("/seasons/no-such-season").status_code == 404
