"""Reminder policy: what is due when, queued once, cancelled and re-armed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from portfolio.models import Delivery, DeliveryMode, DeliveryStatus, Notification, Role
from portfolio.notify import reminders, service
from portfolio.notify.reminders import ReminderKind, queue_due_reminders

from .builders import NOW, make_milestone, make_project

pytestmark = pytest.mark.usefixtures("app_ctx")


def kinds(session: Session) -> list[str]:
    return [n.kind for n in session.exec(select(Notification).order_by(Notification.id))]


@pytest.mark.parametrize(
    ("due_in", "kind"),
    [
        (timedelta(days=7), "reminder_7d"),
        (timedelta(days=6, hours=23), "reminder_7d"),
        (timedelta(days=1), "reminder_1d"),
        (timedelta(minutes=10), "reminder_1d"),
        (timedelta(0), "reminder_due"),
        (timedelta(hours=-23), "reminder_due"),
        (timedelta(days=-1), "reminder_overdue"),
        (timedelta(days=-6, hours=-23), "reminder_overdue"),
    ],
)
def test_the_latest_due_kind_is_queued(session, make_user, due_in, kind) -> None:
    """Each time window sends its own reminder kind, one per member."""
    owner = make_user("ada")
    make_milestone(session, make_project(session, owner), NOW + due_in)
    session.commit()
    assert queue_due_reminders(session, now=NOW) == 1
    session.commit()
    assert kinds(session) == [kind]


@pytest.mark.parametrize(
    "due_in", [timedelta(days=7, seconds=1), timedelta(days=-7), timedelta(days=-40)]
)
def test_nothing_before_a_week_or_long_after(session, make_user, due_in) -> None:
    """More than a week ahead, or more than a week overdue: no reminder."""
    make_milestone(session, make_project(session, make_user("ada")), NOW + due_in)
    session.commit()
    assert queue_due_reminders(session, now=NOW) == 0


def test_full_policy_over_time_sends_each_kind_once(session, make_user) -> None:
    """Sweeping every 5 minutes across two weeks sends 7d, 1d, due, overdue: once each."""
    due = NOW + timedelta(days=8)
    make_milestone(session, make_project(session, make_user("ada")), due)
    session.commit()
    t = NOW
    while t < due + timedelta(days=8):
        queue_due_reminders(session, now=t)
        session.commit()
        t += timedelta(hours=1)
    assert kinds(session) == ["reminder_7d", "reminder_1d", "reminder_due", "reminder_overdue"]
    assert session.exec(select(Delivery)).all().__len__() == 4


def test_scheduler_down_eight_days_sends_only_the_overdue_reminder(session, make_user) -> None:
    """After a long outage the stale earlier kinds are not sent, only the relevant one."""
    due = NOW + timedelta(days=3)
    make_milestone(session, make_project(session, make_user("ada")), due)
    session.commit()
    queue_due_reminders(session, now=NOW)  # 7d goes out before the outage
    session.commit()
    after_outage = NOW + timedelta(days=8)  # 1d, due and overdue times all passed
    assert queue_due_reminders(session, now=after_outage) == 1
    assert queue_due_reminders(session, now=after_outage + timedelta(minutes=5)) == 0
    session.commit()
    assert kinds(session) == ["reminder_7d", "reminder_overdue"]


def test_every_accepted_member_is_reminded_invited_ones_are_not(session, make_user) -> None:
    """Team projects remind each accepted member; invitations pending get nothing."""
    owner, mate, invitee = make_user("ada"), make_user("bob"), make_user("cyd")
    project = make_project(session, owner, members=(mate,), invited=(invitee,))
    make_milestone(session, project, NOW + timedelta(hours=5))
    session.commit()
    assert queue_due_reminders(session, now=NOW) == 2
    session.commit()
    users = {n.user_id for n in session.exec(select(Notification))}
    assert users == {owner.id, mate.id}


def test_done_milestones_get_no_reminders(session, make_user) -> None:
    """A milestone marked done is not reminded about."""
    milestone = make_milestone(session, make_project(session, make_user("ada")), NOW)
    milestone.done_at = NOW - timedelta(hours=1)
    session.commit()
    assert queue_due_reminders(session, now=NOW) == 0


def test_dedupe_key_in_sql_matches_python(session, make_user) -> None:
    """The key built by SQL is exactly reminders.dedupe_key(), microseconds and all."""
    owner = make_user("ada")
    due = NOW + timedelta(hours=5, microseconds=999_999)
    milestone = make_milestone(session, make_project(session, owner), due)
    session.commit()
    queue_due_reminders(session, now=NOW)
    session.commit()
    [n] = session.exec(select(Notification)).all()
    expected = reminders.dedupe_key(milestone.id, owner.id, ReminderKind.day, due)
    assert (
        n.dedupe_key == expected == f"reminder:{milestone.id}:{owner.id}:1d:{int(due.timestamp())}"
    )
    [d] = session.exec(select(Delivery)).all()
    assert d.dedupe_key == expected


def test_completing_cancels_pending_emails(session, make_user) -> None:
    """cancel_reminders() cancels the unsent emails of that milestone only."""
    project = make_project(session, make_user("ada"))
    done = make_milestone(session, project, NOW + timedelta(hours=3), "Done one")
    other = make_milestone(session, project, NOW + timedelta(hours=4), "Other")
    session.commit()
    queue_due_reminders(session, now=NOW)
    done.done_at = NOW
    session.add(done)
    assert reminders.cancel_reminders(session, done.id) == 1
    session.commit()
    statuses = {d.dedupe_key.split(":")[1]: d.status for d in session.exec(select(Delivery)).all()}
    assert statuses == {str(done.id): DeliveryStatus.cancelled, str(other.id): "pending"}


def test_stale_pending_emails_are_cancelled_by_the_next_sweep(session, make_user) -> None:
    """Even without cancel_reminders(), a sweep cancels emails of done or moved milestones."""
    project = make_project(session, make_user("ada"))
    done = make_milestone(session, project, NOW + timedelta(hours=3), "Done")
    moved = make_milestone(session, project, NOW + timedelta(hours=4), "Moved")
    session.commit()
    queue_due_reminders(session, now=NOW)
    session.commit()
    done.done_at = NOW
    moved.due_at = NOW + timedelta(days=30)
    session.add_all([done, moved])
    session.commit()
    queue_due_reminders(session, now=NOW + timedelta(minutes=5))
    session.commit()
    assert {d.status for d in session.exec(select(Delivery))} == {DeliveryStatus.cancelled}


def test_moving_a_milestone_rearms_its_reminders(session, make_user) -> None:
    """A new due time is a new key: the 1-day reminder comes again for the new date."""
    milestone = make_milestone(
        session, make_project(session, make_user("ada")), NOW + timedelta(hours=3)
    )
    session.commit()
    assert queue_due_reminders(session, now=NOW) == 1
    milestone.due_at = NOW + timedelta(hours=20)
    session.add(milestone)
    session.commit()
    assert queue_due_reminders(session, now=NOW + timedelta(minutes=5)) == 1
    session.commit()
    assert kinds(session) == ["reminder_1d", "reminder_1d"]


def test_preferences_off_and_in_app_only(session, make_user) -> None:
    """Off: nothing at all. In-app only: a notification without an email."""
    off, in_app = make_user("off-user"), make_user("inapp-user")
    service.set_mode(session, off.id, "reminders", DeliveryMode.off)
    service.set_mode(session, in_app.id, "reminders", DeliveryMode.in_app)
    project = make_project(session, off, members=(in_app,))
    make_milestone(session, project, NOW + timedelta(hours=2))
    session.commit()
    assert queue_due_reminders(session, now=NOW) == 1
    session.commit()
    [n] = session.exec(select(Notification)).all()
    assert n.user_id == in_app.id
    assert session.exec(select(Delivery)).all() == []


def test_reminder_email_content(session, make_user, app) -> None:
    """Project, milestone, due time in the recipient's zone, and a link to the project."""
    owner = make_user("ada", timezone="America/Los_Angeles")
    mentor = make_user("max", role=Role.mentor, timezone="Asia/Tokyo")
    project = make_project(session, owner, members=(mentor,), title="Churn <model>")
    make_milestone(session, project, NOW + timedelta(days=1), "Baseline & eval")
    session.commit()
    queue_due_reminders(session, now=NOW)
    session.commit()
    mails = {d.user_id: d for d in session.exec(select(Delivery))}
    ada, max_ = mails[owner.id], mails[mentor.id]
    assert ada.subject == "“Baseline & eval” is due in 24 hours"
    assert "Churn <model>" in ada.text_body
    assert "Thu 11 Feb 2027, 04:00" in ada.text_body  # 12:00 UTC in Los Angeles
    assert "Thu 11 Feb 2027, 21:00" in max_.text_body  # and in Tokyo
    assert "http://127.0.0.1:5000/u/ada/churn-model" in ada.text_body
    assert "Churn &lt;model&gt;" in ada.html_body and "<model>" not in ada.html_body
    assert 'href="http://127.0.0.1:5000/u/ada/churn-model"' in ada.html_body
    assert "/unsubscribe/" in ada.text_body
