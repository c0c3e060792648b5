"""Reminder policy: what is due when, queued once, cancelled and re-armed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from portfolio.models import (
    Delivery,
    DeliveryMode,
    DeliveryStatus,
    Notification,
    ProjectMember,
    Role,
)
from portfolio.notify import inbox, reminders, service
from portfolio.notify.reminders import ReminderKind, queue_due_reminders
from scheduler import jobs

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


def test_reminder_email_content(smtp_app, smtp_server, session, make_user) -> None:
    """Project, milestone, due time in the recipient's zone, and a link to the project."""
    owner = make_user("ada", timezone="America/Los_Angeles")
    mentor = make_user("max", role=Role.mentor, timezone="Asia/Tokyo")
    project = make_project(session, owner, members=(mentor,), title="Churn <model>")
    make_milestone(session, project, NOW + timedelta(days=1), "Baseline & eval")
    session.commit()
    queue_due_reminders(session, now=NOW)
    session.commit()
    assert jobs.deliver_emails(smtp_app, now=NOW) == {"sent": 2}
    mails = {m.rcpt_tos[0]: m.message for m in smtp_server.messages}
    ada, max_ = mails["ada@example.com"], mails["max@example.com"]
    assert ada["Subject"] == "“Baseline & eval” is due in 24 hours"
    assert ada["X-Seasons-Kind"] == "reminder_1d"
    text, html = ada.get_body(("plain",)).get_content(), ada.get_body(("html",)).get_content()
    assert "Churn <model>" in text
    assert "Thu 11 Feb 2027, 04:00" in text  # 12:00 UTC in Los Angeles
    assert "Thu 11 Feb 2027, 21:00" in max_.get_body(("plain",)).get_content()  # and in Tokyo
    assert "http://127.0.0.1:5000/u/ada/churn-model" in text
    assert "Churn &lt;model&gt;" in html and "<model>" not in html
    assert 'href="http://127.0.0.1:5000/u/ada/churn-model"' in html
    assert "/unsubscribe/" in text
    # What was sent stays on the row for the admins' list.
    sent = {d.to_address: d for d in session.exec(select(Delivery))}
    session.refresh(sent["ada@example.com"])
    assert sent["ada@example.com"].subject == ada["Subject"]
    assert "Thu 11 Feb 2027, 04:00" in sent["ada@example.com"].text_body


def test_queued_reminders_carry_no_rendered_text(session, make_user) -> None:
    """Queueing is set-based: the title is built in SQL, times are rendered later."""
    owner = make_user("ada")
    project = make_project(session, owner, title="Churn model")
    make_milestone(session, project, NOW + timedelta(days=3), "Baseline")
    session.commit()
    queue_due_reminders(session, now=NOW)
    session.commit()
    [n] = session.exec(select(Notification)).all()
    assert n.title == "“Baseline” is due within a week · Churn model"
    assert n.url == "http://127.0.0.1:5000/u/ada/churn-model"
    assert n.payload["category"] == "reminders" and n.payload["reminder"] == "7d"
    [d] = session.exec(select(Delivery)).all()
    assert (d.template, d.text_body, d.notification_id) == ("reminder", "", n.id)


def test_in_app_reminder_text_is_rendered_for_the_reader_when_read(
    session, make_user, login_as
) -> None:
    """The inbox says the due time in the reader's zone, relative to when it is read."""
    owner = make_user("ada", timezone="Asia/Tokyo")
    make_milestone(session, make_project(session, owner), NOW + timedelta(days=3))
    session.commit()
    queue_due_reminders(session, now=NOW)
    session.commit()
    [n] = session.exec(select(Notification)).all()
    assert inbox.body_of(n, "Asia/Tokyo", NOW) == "Due Sat 13 Feb 2027, 21:00 JST (in 3 days)."
    later = NOW + timedelta(days=4)
    assert inbox.body_of(n, "UTC", later) == ("Was due Sat 13 Feb 2027, 12:00 UTC (24 hours ago).")
    page = login_as(owner).get("/notifications").get_data(as_text=True)
    assert "Sat 13 Feb 2027, 21:00 JST" in page


def test_a_late_email_says_what_is_true_when_it_is_sent(
    smtp_app, smtp_server, session, make_user
) -> None:
    """A 1-day reminder stuck in an outage past the deadline says "was due", not "is due"."""
    ada = make_user("ada")
    make_milestone(session, make_project(session, ada), NOW + timedelta(hours=20))
    session.commit()
    queue_due_reminders(session, now=NOW)
    session.commit()
    smtp_server.stop()
    assert jobs.deliver_emails(smtp_app, now=NOW) == {"unreachable": 1}
    smtp_server.start()
    assert jobs.deliver_emails(smtp_app, now=NOW + timedelta(days=1)) == {"sent": 1}
    [mail] = smtp_server.messages
    assert mail.message["Subject"] == "“Baseline” was due 4 hours ago"
    assert "is not marked done yet" in mail.message.get_body(("plain",)).get_content()


@pytest.mark.parametrize("change", ["done", "moved", "deleted", "left"])
def test_emails_moot_by_send_time_are_cancelled_not_sent(
    smtp_app, smtp_server, session, make_user, change
) -> None:
    """Done, moved, deleted, or the member left between queueing and sending: no email."""
    ada, bob = make_user("ada"), make_user("bob")
    project = make_project(session, ada, members=(bob,))
    milestone = make_milestone(session, project, NOW + timedelta(hours=5))
    session.commit()
    queue_due_reminders(session, now=NOW)
    session.commit()
    if change == "done":
        milestone.done_at = NOW
    elif change == "moved":
        milestone.due_at = NOW + timedelta(days=20)
    if change == "deleted":
        session.delete(milestone)
    elif change == "left":
        member = session.exec(select(ProjectMember).where(ProjectMember.user_id == bob.id)).one()
        session.delete(member)
    else:
        session.add(milestone)
    session.commit()
    outcomes = jobs.deliver_emails(smtp_app, now=NOW)
    if change == "left":
        assert outcomes == {"sent": 1, "cancelled": 1}
        assert [m.rcpt_tos for m in smtp_server.messages] == [["ada@example.com"]]
    else:
        assert outcomes == {"cancelled": 2}
        assert smtp_server.messages == []
    reasons = {d.last_error for d in session.exec(select(Delivery)) if d.status == "cancelled"}
    expected = {
        "done": "milestone done or moved",
        "moved": "milestone done or moved",
        "deleted": "milestone deleted",
        "left": "no longer a member of the project",
    }[change]
    assert reasons == {expected}


def test_an_email_that_cannot_be_rendered_is_retried_then_shown_to_admins(
    smtp_app, smtp_server, session, make_user, monkeypatch
) -> None:
    """A renderer bug neither loses the email nor loops on it unseen: it backs off, then fails."""
    from portfolio.notify import outbox

    def broken(*_args):
        raise RuntimeError("template bug")

    monkeypatch.setitem(outbox.RENDERERS, "reminder", broken)
    ada = make_user("ada")
    make_milestone(session, make_project(session, ada), NOW + timedelta(hours=5))
    session.commit()
    queue_due_reminders(session, now=NOW)
    session.commit()
    assert jobs.deliver_emails(smtp_app, now=NOW) == {"retry": 1}
    [d] = session.exec(select(Delivery)).all()
    session.refresh(d)
    assert (d.status, d.attempts) == ("pending", 1)
    assert d.next_attempt_at > NOW and "template bug" in d.last_error
    t = NOW
    for _ in range(5):
        t += timedelta(hours=7)
        jobs.deliver_emails(smtp_app, now=t)
    session.refresh(d)
    assert (d.status, d.attempts) == ("failed", 3)  # MAIL_MAX_ATTEMPTS of smtp_app
    assert smtp_server.messages == []
    assert [x.id for x, _ in outbox.troubled(session)] == [d.id]
