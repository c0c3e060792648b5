"""The private ICS feed: parsed back with icalendar, times in UTC, alarms, ETag."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest

from portfolio.models import Enrollment
from portfolio.notify import feeds

from .builders import NOW, make_milestone, make_project, make_season


@pytest.fixture
def feed_token(app, session, make_user):
    """Ada: a team project (two milestones, one done), an invitation, another season."""
    ada, bob = make_user("ada", timezone="Europe/Berlin"), make_user("bob")
    season = make_season(session)
    project = make_project(session, ada, season=season, title="Churn model")
    due = datetime(2027, 2, 26, 22, 59, tzinfo=UTC)
    make_milestone(session, project, due, "Baseline")
    done = make_milestone(session, project, due + timedelta(days=14), "Write-up")
    done.done_at = NOW
    # Bob's project where Ada is only invited: not in her feed.
    other = make_project(session, bob, season=season, invited=(ada,), title="Other", slug="o")
    make_milestone(session, other, due, "Not hers")
    later = make_season(session, "2027-q2")
    later.starts_on, later.ends_on = date(2027, 4, 1), date(2027, 6, 30)
    session.add(Enrollment(user_id=ada.id, season_id=later.id))
    session.commit()
    with app.app_context():
        feed = feeds.regenerate(session, ada.id, now=NOW)
        session.commit()
    return feed.token


def test_feed_parses_with_milestones_and_season_boundaries(client, feed_token) -> None:
    """Milestones in UTC with a VALARM a day before; seasons as all-day events."""
    response = client.get(f"/calendar/{feed_token}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Cache-Control"].startswith("private")
    cal = icalendar.Calendar.from_ical(response.data)
    events = {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {
        "Baseline · Churn model",
        "✓ Write-up · Churn model",
        "Season 2027 Q1 begins",
        "Season 2027 Q1 ends",
        "Season 2027 Q2 begins",
        "Season 2027 Q2 ends",
    }
    baseline = events["Baseline · Churn model"]
    start = baseline.decoded("DTSTART")
    assert start == datetime(2027, 2, 26, 22, 59, tzinfo=UTC)
    assert start.utcoffset() == timedelta(0)
    assert str(baseline["UID"]).startswith("milestone-") and "@127.0.0.1" in str(baseline["UID"])
    assert str(baseline["URL"]) == "http://127.0.0.1:5000/u/ada/churn-model"
    [alarm] = baseline.walk("VALARM")
    assert alarm.decoded("TRIGGER") == timedelta(days=-1)
    assert events["✓ Write-up · Churn model"].walk("VALARM") == []
    ends = events["Season 2027 Q1 ends"]
    assert ends.decoded("DTSTART") == date(2027, 3, 31)
    assert ends.decoded("DTEND") == date(2027, 4, 1)


def test_feed_has_an_etag_and_answers_304(client, feed_token) -> None:
    """Unchanged feeds are not sent again; the bytes are stable between requests."""
    first = client.get(f"/calendar/{feed_token}.ics")
    etag = first.headers["ETag"]
    again = client.get(f"/calendar/{feed_token}.ics")
    assert again.data == first.data and again.headers["ETag"] == etag
    cached = client.get(f"/calendar/{feed_token}.ics", headers={"If-None-Match": etag})
    assert cached.status_code == 304


def test_unknown_or_overlong_token_is_404(client) -> None:
    assert client.get("/calendar/nope.ics").status_code == 404
    assert client.get(f"/calendar/{'a' * 200}.ics").status_code == 404
