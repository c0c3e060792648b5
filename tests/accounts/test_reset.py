"""Password reset by email: the whole flow through the outbox and a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from portfolio.models import Delivery, EmailToken, User, utcnow
from tests.conftest import TEST_PASSWORD, csrf_token, login

from .conftest import NEW_PASSWORD, ask_reset, deliver, link_in, mailed_link, post_form


def reset_with(client, path: str, password: str = NEW_PASSWORD):
    return post_form(client, path, {"new": password, "confirm": password}, page="/password/forgot")


def test_forgotten_password_round_trip(smtp_app, smtp_server, session, make_user):
    """The emailed link sets a new password, ends every older session, signs this browser in."""
    ada = make_user("ada")
    old_browser = smtp_app.test_client()
    assert login(old_browser, ada).status_code == 302
    login_page = smtp_app.test_client().get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in login_page

    client = smtp_app.test_client()
    response = ask_reset(client, "ADA@example.com ")
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    assert smtp_server.messages == []  # queued, not sent inside the request
    assert deliver(smtp_app) == {"sent": 1}
    [mail] = smtp_server.messages
    assert mail.rcpt_tos == ["ada@example.com"]
    assert mail.message["Subject"] == "Reset your Seasons password"
    assert mail.message["List-Unsubscribe"] is None  # account mail cannot be opted out of
    path = link_in(smtp_server, "ada@example.com", "password/reset")

    form = client.get(path)
    assert form.status_code == 200
    assert form.headers["Cache-Control"] == "no-store"
    assert form.headers["Referrer-Policy"] == "no-referrer"
    response = reset_with(client, path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"
    assert client.get("/settings/profile").status_code == 200  # signed in here
    assert old_browser.get("/settings/profile").status_code == 302  # the old session is gone
    assert login(smtp_app.test_client(), ada).status_code == 422  # old password refused
    assert login(smtp_app.test_client(), ada, NEW_PASSWORD).status_code == 302
    # The link is spent.
    again = client.get(path)
    assert again.status_code == 400
    assert "already used" in again.get_data(as_text=True)


def test_unknown_address_gets_the_same_answer_and_no_email(smtp_app, smtp_server, make_user):
    """No account enumeration: an unknown address gets the very same page, and no email."""
    make_user("ada")
    known = ask_reset(smtp_app.test_client(), "ada@example.com")
    unknown = ask_reset(smtp_app.test_client(), "nobody@example.com")
    assert known.status_code == unknown.status_code == 200

    def body(response, email):
        return response.get_data(as_text=True).replace(email, "EMAIL")

    strip = lambda html: "\n".join(  # noqa: E731
        line for line in html.splitlines() if "csrf_token" not in line
    )
    assert strip(body(known, "ada@example.com")) == strip(body(unknown, "nobody@example.com"))
    deliver(smtp_app)
    assert [m.rcpt_tos for m in smtp_server.messages] == [["ada@example.com"]]


def test_suspended_account_gets_a_notice_not_a_link(smtp_app, smtp_server, session, make_user):
    """The form answers as usual; the mailbox is told the account is suspended, with no link."""
    ada = make_user("ada")
    session.get(User, ada.id).suspended_at = utcnow()
    session.commit()
    response = ask_reset(smtp_app.test_client(), "ada@example.com")
    assert response.status_code == 200
    assert "suspended" not in response.get_data(as_text=True)
    deliver(smtp_app)
    [mail] = smtp_server.messages
    text_part = mail.message.get_body(("plain",)).get_content()
    assert "suspended" in text_part
    assert "/password/reset/" not in text_part
    assert session.exec(select(EmailToken)).all() == []


def test_link_issued_before_a_suspension_is_refused(smtp_app, smtp_server, session, make_user):
    """A suspended account cannot be reset even with a link sent earlier."""
    ada = make_user("ada")
    client = smtp_app.test_client()
    ask_reset(client, ada.email)
    path = mailed_link(smtp_app, smtp_server, ada.email, "password/reset")
    session.get(User, ada.id).suspended_at = utcnow()
    session.commit()
    response = client.get(path)
    assert response.status_code == 403
    before = session.get(User, ada.id).password_hash
    assert reset_with(client, path).status_code == 403
    session.expire_all()
    assert session.get(User, ada.id).password_hash == before


def test_bad_links_are_refused_clearly(smtp_app, smtp_server, session, make_user):
    """Tampered, truncated, over-long and other-purpose links: 400, nothing changes."""
    ada = make_user("ada")
    client = smtp_app.test_client()
    ask_reset(client, ada.email)
    path = mailed_link(smtp_app, smtp_server, ada.email, "password/reset")
    secret = path.rsplit("/", 1)[1]
    tampered = secret[:-2] + ("AA" if not secret.endswith("AA") else "BB")
    for bad in (
        f"/password/reset/{tampered}",
        f"/password/reset/{secret[:20]}",
        f"/password/reset/{secret * 4}",
        f"/email/verify/{secret}",  # the right secret for another purpose
        f"/email/confirm/{secret}",
    ):
        response = client.get(bad)
        assert response.status_code == 400, bad
        assert "not valid" in response.get_data(as_text=True)
    response = reset_with(client, f"/password/reset/{tampered}")
    assert response.status_code == 400
    before = session.get(User, ada.id).password_hash
    session.expire_all()
    assert session.get(User, ada.id).password_hash == before
    assert client.get(path).status_code == 200  # the real link still works


def test_expired_link_says_so_and_offers_a_new_one(smtp_app, smtp_server, session, make_user):
    """After an hour the link is refused as expired (410) with a way to ask again."""
    ada = make_user("ada")
    client = smtp_app.test_client()
    ask_reset(client, ada.email)
    path = mailed_link(smtp_app, smtp_server, ada.email, "password/reset")
    token = session.exec(select(EmailToken)).one()
    session.refresh(token)
    assert token.expires_at - token.created_at <= timedelta(hours=1, seconds=5)
    token.expires_at = utcnow() - timedelta(seconds=1)  # an hour went by
    session.commit()
    response = client.get(path)
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "expired" in html
    assert 'href="/password/forgot"' in html
    assert reset_with(client, path).status_code == 410


def test_a_newer_request_replaces_the_older_link(smtp_app, smtp_server, make_user):
    """Only the link of the most recent request works."""
    ada = make_user("ada")
    client = smtp_app.test_client()
    ask_reset(client, ada.email)
    first = mailed_link(smtp_app, smtp_server, ada.email, "password/reset")
    ask_reset(client, ada.email)
    second = mailed_link(smtp_app, smtp_server, ada.email, "password/reset")
    assert first != second
    assert client.get(first).status_code == 400
    assert client.get(second).status_code == 200


def test_a_password_change_voids_pending_reset_links(smtp_app, smtp_server, make_user, client):
    """Changing the password in settings makes an unused reset link useless."""
    ada = make_user("ada")
    ask_reset(smtp_app.test_client(), ada.email)
    path = mailed_link(smtp_app, smtp_server, ada.email, "password/reset")
    browser = smtp_app.test_client()
    login(browser, ada)
    response = post_form(
        browser,
        "/settings/password",
        {"current": TEST_PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert smtp_app.test_client().get(path).status_code == 400


def test_a_link_for_another_account_is_refused_while_signed_in(
    smtp_app, smtp_server, session, make_user
):
    """Signed in as Bob, Ada's link is refused and Ada's password is untouched."""
    ada, bob = make_user("ada"), make_user("bob")
    ask_reset(smtp_app.test_client(), ada.email)
    path = mailed_link(smtp_app, smtp_server, ada.email, "password/reset")
    as_bob = smtp_app.test_client()
    login(as_bob, bob)
    response = as_bob.get(path)
    assert response.status_code == 400
    assert "another account" in response.get_data(as_text=True)
    assert reset_with(as_bob, path).status_code == 400
    assert login(smtp_app.test_client(), ada).status_code == 302


def test_new_password_follows_the_strength_rules(smtp_app, smtp_server, session, make_user):
    """A weak or mismatched new password is refused on the form; the link stays usable."""
    ada = make_user("ada")
    client = smtp_app.test_client()
    ask_reset(client, ada.email)
    path = mailed_link(smtp_app, smtp_server, ada.email, "password/reset")
    weak = reset_with(client, path, "password1")
    assert weak.status_code == 422
    assert "at least 10 characters" in weak.get_data(as_text=True)
    mismatch = post_form(client, path, {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 422
    assert "differ" in mismatch.get_data(as_text=True)
    assert reset_with(client, path).status_code == 302


def test_smtp_outage_delays_the_email_and_the_hour_starts_when_sent(
    smtp_app, smtp_server, session, make_user
):
    """While SMTP is down the email waits; once sent, its link works for an hour from then."""
    ada = make_user("ada")
    client = smtp_app.test_client()
    ask_reset(client, ada.email)
    smtp_server.stop()
    assert deliver(smtp_app) == {"unreachable": 1}
    [delivery] = session.exec(select(Delivery)).all()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    smtp_server.start()
    later = utcnow() + timedelta(minutes=90)  # longer than a link's life
    assert deliver(smtp_app, now=later) == {"sent": 1}
    path = link_in(smtp_server, ada.email, "password/reset")
    token = session.exec(select(EmailToken)).one()
    session.refresh(token)
    assert token.expires_at == later + timedelta(hours=1)
    assert client.get(path).status_code == 200


def test_the_database_never_holds_a_usable_link(smtp_app, smtp_server, session, make_user, app):
    """Only a SHA-256 of the secret is stored; the sent email's text is not kept on the row."""
    ada = make_user("ada")
    ask_reset(smtp_app.test_client(), ada.email)
    deliver(smtp_app)
    secret = link_in(smtp_server, ada.email, "password/reset").rsplit("/", 1)[1]
    [delivery] = session.exec(select(Delivery)).all()
    session.refresh(delivery)
    assert secret not in delivery.text_body + delivery.html_body
    with app.extensions["engine"].connect() as conn:
        for table in ("email_tokens", "deliveries"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                assert not any(secret in str(value) for value in row), table


@pytest.mark.parametrize(
    "limit_key", ["ACCOUNT_EMAIL_ADDRESS_RATE_LIMIT", "ACCOUNT_EMAIL_RATE_LIMIT"]
)
def test_reset_requests_are_rate_limited(smtp_app, smtp_server, make_user, limit_key):
    """Per address (from any client) and per client address (for any email): 429 past the limit."""
    make_user("ada")
    smtp_app.config[limit_key] = "2 per minute"
    statuses = [ask_reset(smtp_app.test_client(), "ada@example.com").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    other = ask_reset(smtp_app.test_client(), "someone-else@example.com").status_code
    # A different address is still served under the per-address limit, not under the per-IP one.
    assert other == (200 if limit_key == "ACCOUNT_EMAIL_ADDRESS_RATE_LIMIT" else 429)
    deliver(smtp_app)
    # The second accepted request replaced the first before it was sent: one email.
    assert [m.rcpt_tos for m in smtp_server.messages] == [["ada@example.com"]]


def test_bad_input_on_the_request_form(client, session):
    """An empty or malformed address is a 422 with a message; nothing is queued."""
    for value in ("", "not-an-address", "a" * 300 + "@example.com"):
        response = client.post(
            "/password/forgot", data={"email": value, "csrf_token": csrf_token(client, "/login")}
        )
        assert response.status_code == 422, value
    assert session.exec(select(Delivery)).all() == []
