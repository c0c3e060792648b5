"""The outbox over a real SMTP server: what arrives, outages, retries, failures."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlmodel import select

from portfolio.models import Delivery, DeliveryMode, DeliveryStatus, Role
from portfolio.notify import service
from scheduler import jobs

from .builders import NOW

pytestmark = pytest.mark.usefixtures("app_ctx")


def queue_one(session, user, **kw):
    """Queue one notification with an email, as any event would."""
    n = service.notify(
        session,
        user=user,
        kind="comment",
        category="comments",
        title=kw.get("title", "New comment on Churn model"),
        body="Nice baseline!",
        url="http://127.0.0.1:5000/u/ada/churn-model",
        now=NOW,
    )
    session.commit()
    return n


def test_sent_mail_has_both_parts_and_one_click_unsubscribe(
    smtp_app, smtp_server, session, make_user, client
) -> None:
    """The server receives text and HTML parts, List-Unsubscribe, and the delivery is sent."""
    ada = make_user("ada")
    queue_one(session, ada)
    assert jobs.deliver_emails(smtp_app, now=NOW)["sent"] == 1

    [mail] = smtp_server.messages
    assert mail.rcpt_tos == ["ada@example.com"]
    msg = mail.message
    assert msg["Subject"] == "New comment on Churn model"
    assert msg["X-Seasons-Kind"] == "comment"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Nice baseline!" in msg.get_body(("plain",)).get_content()
    assert "Nice baseline!" in msg.get_body(("html",)).get_content()
    url = msg["List-Unsubscribe"].strip("<>")
    assert url.startswith("http://127.0.0.1:5000/unsubscribe/")
    [delivery] = session.exec(select(Delivery)).all()
    session.refresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.sent_at) == ("sent", 1, NOW)
    assert msg["Message-ID"] == f"<delivery-{delivery.id}@seasons.example.com>"

    # The one-click POST from the header works without a CSRF token or a login.
    path = url.removeprefix("http://127.0.0.1:5000")
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    session.expire_all()
    assert service.mode_for(session, ada.id, "comments") == DeliveryMode.in_app


def test_outage_keeps_the_email_queued_until_the_server_is_back(
    smtp_app, smtp_server, session, make_user
) -> None:
    """While SMTP is down the delivery waits (backoff); it goes out once it returns."""
    queue_one(session, make_user("ada"))
    queue_one(session, make_user("bob"), title="Second")
    smtp_server.stop()
    outcomes = jobs.deliver_emails(smtp_app, now=NOW)
    # The first failure stops the run; the second is given back untried.
    assert outcomes == {"unreachable": 1}
    rows = {d.subject: d for d in session.exec(select(Delivery))}
    first, second = rows["New comment on Churn model"], rows["Second"]
    assert (first.status, first.attempts) == ("pending", 1)
    assert "cannot connect" in first.last_error
    assert first.next_attempt_at == NOW + timedelta(minutes=1)
    assert (second.status, second.attempts, second.next_attempt_at) == ("pending", 0, NOW)

    smtp_server.start()
    assert jobs.deliver_emails(smtp_app, now=NOW + timedelta(seconds=30))["sent"] == 1
    assert jobs.deliver_emails(smtp_app, now=NOW + timedelta(minutes=2))["sent"] == 1
    assert sorted(m.message["Subject"] for m in smtp_server.messages) == [
        "New comment on Churn model",
        "Second",
    ]
    session.expire_all()
    assert {d.status for d in session.exec(select(Delivery))} == {"sent"}


def test_attempts_exhausted_marks_failed_and_admins_see_it(
    smtp_app, smtp_server, session, make_user, login_as
) -> None:
    """After MAIL_MAX_ATTEMPTS temporary failures the delivery is failed, never dropped."""
    queue_one(session, make_user("ada"))
    smtp_server.data_reply = "451 4.3.0 Try again later"
    t = NOW
    for _ in range(3):
        jobs.deliver_emails(smtp_app, now=t)
        t += timedelta(hours=7)
    [delivery] = session.exec(select(Delivery)).all()
    session.refresh(delivery)
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert "451" in delivery.last_error

    admin = make_user("root-admin", role=Role.admin)
    client = login_as(admin)
    page = client.get("/admin/deliveries")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "ada@example.com" in html and "451 4.3.0 Try again later" in html


def test_permanent_refusal_fails_at_once(smtp_app, smtp_server, session, make_user) -> None:
    """A 5xx reply will not change on retry: failed after one attempt."""
    queue_one(session, make_user("ada"))
    smtp_server.rcpt_reply = "550 5.1.1 No such user"
    assert jobs.deliver_emails(smtp_app, now=NOW) == {"failed": 1}
    [delivery] = session.exec(select(Delivery)).all()
    assert (delivery.status, delivery.attempts) == ("failed", 1)


def test_without_smtp_host_emails_are_logged_and_kept_as_sent(
    app, session, make_user, caplog
) -> None:
    """The embedded default: the console transport logs the email and marks it sent."""
    caplog.set_level(logging.INFO, logger="portfolio.notify.mail")
    queue_one(session, make_user("ada"))
    assert app.config["SMTP_HOST"] is None
    assert jobs.deliver_emails(app, now=NOW) == {"sent": 1}
    assert "Subject: New comment on Churn model" in caplog.text
    [delivery] = session.exec(select(Delivery)).all()
    assert delivery.status == DeliveryStatus.sent


def test_email_turned_off_after_queueing_is_cancelled(
    smtp_app, smtp_server, session, make_user
) -> None:
    """An unsubscribe between queueing and sending wins: nothing is sent."""
    ada = make_user("ada")
    queue_one(session, ada)
    service.set_mode(session, ada.id, "comments", DeliveryMode.in_app)
    session.commit()
    assert jobs.deliver_emails(smtp_app, now=NOW) == {"cancelled": 1}
    assert smtp_server.messages == []


def test_not_yet_due_and_claimed_deliveries_wait(smtp_app, smtp_server, session, make_user) -> None:
    """A delivery is sent only when due; a claimed one is not claimed twice."""
    from portfolio.notify import outbox

    queue_one(session, make_user("ada"))
    assert jobs.deliver_emails(smtp_app, now=NOW - timedelta(seconds=1)) == {}
    assert outbox.claim_due(session, now=NOW) != []
    session.commit()
    assert outbox.claim_due(session, now=NOW) == []
    # The lease runs out (a crashed sender): the delivery comes back.
    assert outbox.claim_due(session, now=NOW + outbox.LEASE) != []


def test_a_killed_senders_claims_come_back_after_the_short_lease(
    smtp_app, smtp_server, session, make_user
) -> None:
    """Claimed by a sender that died: back after MAIL_LEASE_SECONDS (2 min), sent once."""
    from portfolio.notify import outbox

    for i in range(3):
        queue_one(session, make_user(f"user-{i}"))
    lease = timedelta(seconds=smtp_app.config["MAIL_LEASE_SECONDS"])
    assert lease <= timedelta(minutes=2)
    assert len(outbox.claim_due(session, now=NOW, lease=lease)) == 3
    session.commit()  # ... and the sender is killed here
    assert jobs.deliver_emails(smtp_app, now=NOW + lease - timedelta(seconds=1)) == {}
    assert jobs.deliver_emails(smtp_app, now=NOW + lease) == {"sent": 3}
    assert len(smtp_server.messages) == 3


def test_a_live_sender_renews_its_batch_and_never_takes_back_a_lost_claim(
    smtp_app, session, make_user
) -> None:
    """extend() renews only claims still held under our token; one retaken by another is lost."""
    from portfolio.notify import outbox

    for i in range(2):
        queue_one(session, make_user(f"user-{i}"))
    lease = timedelta(minutes=2)
    first, second = outbox.claim_due(session, now=NOW, lease=lease)
    session.commit()
    # Renewed a minute in: still ours, for another full lease.
    held, until = outbox.extend(
        session,
        [first, second],
        held_until=NOW + lease,
        now=NOW + timedelta(minutes=1),
        lease=lease,
    )
    session.commit()
    assert held == [first, second] and until == NOW + timedelta(minutes=3)
    assert outbox.claim_due(session, now=NOW + lease, lease=lease) == []  # not expired: renewed
    # Suppose the renewal had come too late: the claim ran out and another sender took it.
    assert outbox.claim_due(session, now=until, lease=lease) == [first, second]
    session.commit()
    stale, _ = outbox.extend(session, [first, second], held_until=until, now=until, lease=lease)
    assert stale == []


@pytest.mark.postgres
def test_two_senders_claiming_at_once_never_share_a_delivery(smtp_app, session, make_user) -> None:
    """A batch one sender has claimed but not yet committed is skipped by the other.

    The two-process race (tests/scheduler/test_processes.py) seldom lands two claims in
    the same instant, so it passes without the claim's FOR UPDATE SKIP LOCKED; this
    holds the first claim open. Without SKIP LOCKED the second claim waits for those
    rows (here until lock_timeout) and would then take them as well.
    """
    from sqlalchemy import text
    from sqlmodel import Session

    from portfolio.notify import outbox

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    for i in range(4):
        queue_one(session, make_user(f"user-{i}"))
    engine = smtp_app.extensions["engine"]
    with Session(engine) as first, Session(engine) as second:
        mine = outbox.claim_due(first, now=NOW, limit=2)  # not committed: its rows stay locked
        second.execute(text("SET LOCAL lock_timeout = '3s'"))
        theirs = outbox.claim_due(second, now=NOW, limit=4)
        first.commit()
        second.commit()
    assert len(mine) == 2 and len(theirs) == 2 and not set(mine) & set(theirs)
