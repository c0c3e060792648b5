"""With REQUIRE_VERIFIED_EMAIL on, reminder and digest emails go to confirmed addresses only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from portfolio.models import Delivery, MentorAssignment, Notification, Role, User, utcnow
from portfolio.notify.digest import queue_weekly_digests
from portfolio.notify.reminders import queue_due_reminders

from .builders import NOW, make_milestone, make_project, make_season
from .test_digest import TOKYO_MONDAY_8

pytestmark = pytest.mark.usefixtures("app_ctx")


def _verify(session, user) -> None:
    session.get(User, user.id).email_verified_at = utcnow()
    session.commit()


@pytest.mark.parametrize("required", [False, True])
def test_reminder_emails_only_to_confirmed_addresses(app, session, make_user, required) -> None:
    """Both members get the in-app reminder; the unconfirmed one gets no email when required."""
    app.config["REQUIRE_VERIFIED_EMAIL"] = required
    ada, bob = make_user("ada"), make_user("bob")
    _verify(session, ada)
    project = make_project(session, ada, members=(bob,))
    make_milestone(session, project, NOW + timedelta(days=1))
    session.commit()
    assert queue_due_reminders(session, now=NOW) == 2
    session.commit()
    assert {n.user_id for n in session.exec(select(Notification))} == {ada.id, bob.id}
    emailed = {d.user_id for d in session.exec(select(Delivery))}
    assert emailed == ({ada.id} if required else {ada.id, bob.id})


@pytest.mark.parametrize("verified", [False, True])
def test_digest_email_only_to_a_confirmed_mentor(app, session, make_user, verified) -> None:
    """An unconfirmed mentor still sees the digest in the app but gets no email."""
    app.config["REQUIRE_VERIFIED_EMAIL"] = True
    mentor = make_user("max", role=Role.mentor, timezone="Asia/Tokyo")
    if verified:
        _verify(session, mentor)
    learner = make_user("ada")
    season = make_season(session)
    late = make_project(session, learner, season=season, title="Late one", slug="late")
    make_milestone(session, late, TOKYO_MONDAY_8 - timedelta(days=2), "Baseline")
    session.add(MentorAssignment(mentor_id=mentor.id, learner_id=learner.id, season_id=season.id))
    session.commit()
    assert queue_weekly_digests(session, now=TOKYO_MONDAY_8) == 1
    session.commit()
    assert [n.kind for n in session.exec(select(Notification))] == ["digest"]
    assert len(session.exec(select(Delivery)).all()) == (1 if verified else 0)
