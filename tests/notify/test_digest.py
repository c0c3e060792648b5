"""The weekly mentor digest: Monday 08:00 in the mentor's zone, once per ISO week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from portfolio.models import Delivery, MentorAssignment, Notification, Role
from portfolio.notify.digest import queue_weekly_digests

from .builders import make_milestone, make_project, make_season

pytestmark = pytest.mark.usefixtures("app_ctx")

# Monday 15 Feb 2027, 08:00 in Tokyo is Sunday 23:00 UTC.
TOKYO_MONDAY_8 = datetime(2027, 2, 14, 23, 0, tzinfo=UTC)


@pytest.fixture
def mentor(session, make_user):
    mentor = make_user("max", role=Role.mentor, timezone="Asia/Tokyo")
    behind, fine = make_user("ada"), make_user("bob")
    season = make_season(session)
    late = make_project(session, behind, season=season, title="Late one", slug="late")
    make_milestone(session, late, TOKYO_MONDAY_8 - timedelta(days=2), "Baseline")
    ok = make_project(session, fine, season=season, title="Fine one", slug="fine")
    ok.last_activity_at = TOKYO_MONDAY_8
    make_milestone(session, ok, TOKYO_MONDAY_8 + timedelta(days=20), "Later")
    for learner in (behind, fine):
        session.add(
            MentorAssignment(mentor_id=mentor.id, learner_id=learner.id, season_id=season.id)
        )
    session.commit()
    return mentor


def test_digest_goes_out_monday_8_local_once(session, mentor) -> None:
    """Not before 08:00 Monday in Tokyo; at 08:00 once; not again that week."""
    assert queue_weekly_digests(session, now=TOKYO_MONDAY_8 - timedelta(minutes=1)) == 0
    assert queue_weekly_digests(session, now=TOKYO_MONDAY_8) == 1
    session.commit()
    assert queue_weekly_digests(session, now=TOKYO_MONDAY_8 + timedelta(hours=1)) == 0
    [n] = session.exec(select(Notification)).all()
    assert n.user_id == mentor.id and n.dedupe_key == f"digest:{mentor.id}:2027-W07"
    assert n.title == "Weekly digest 2027-W07: 1 of 2 projects need attention"
    [d] = session.exec(select(Delivery)).all()
    assert "Ada · Late one: Behind, 1 milestone overdue" in d.text_body
    assert "http://127.0.0.1:5000/u/ada/late" in d.text_body
    assert "Fine one" not in d.text_body


def test_no_digest_on_tuesday_and_next_monday_again(session, mentor) -> None:
    """A missed Monday is skipped; the next Monday sends the next week's digest."""
    assert queue_weekly_digests(session, now=TOKYO_MONDAY_8 + timedelta(days=1)) == 0
    assert queue_weekly_digests(session, now=TOKYO_MONDAY_8 + timedelta(days=7)) == 1
    session.commit()
    [n] = session.exec(select(Notification)).all()
    assert n.dedupe_key.endswith("2027-W08")


def test_mentor_with_digest_off_gets_nothing(session, mentor) -> None:
    from portfolio.models import DeliveryMode
    from portfolio.notify import service

    service.set_mode(session, mentor.id, "digest", DeliveryMode.off)
    assert queue_weekly_digests(session, now=TOKYO_MONDAY_8) == 0
    assert session.exec(select(Notification)).all() == []
