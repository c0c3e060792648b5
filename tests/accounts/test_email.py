"""Verified email and email change, through the outbox and the loopback SMTP server."""

from __future__ import annotations

from sqlmodel import select

from portfolio.models import Comment, Delivery, EmailToken, Project, User, Visibility, utcnow
from tests.api.conftest import bearer
from tests.conftest import TEST_PASSWORD, csrf_token, login

from .conftest import link_in, mailed_link, post_form


def _signup(client, email="ada@example.com", handle="ada-l"):
    return post_form(
        client,
        "/signup",
        {
            "email": email,
            "handle": handle,
            "display_name": "Ada L",
            "password": TEST_PASSWORD,
            "timezone": "UTC",
        },
    )


def _verify(session, user) -> None:
    session.get(User, user.id).email_verified_at = utcnow()
    session.commit()


def test_signup_sends_a_verification_email_and_the_link_confirms(smtp_app, smtp_server, session):
    """A new account is unconfirmed with a banner; the emailed link (after a click) confirms it."""
    client = smtp_app.test_client()
    assert _signup(client).status_code == 302
    user = session.exec(select(User)).one()
    assert user.email_verified_at is None
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Please confirm your email address" in dashboard
    path = mailed_link(smtp_app, smtp_server, "ada@example.com", "email/verify")
    # A GET (a mail scanner, a preview) does not spend the link.
    page = client.get(path)
    assert page.status_code == 200
    session.expire_all()
    assert session.get(User, user.id).email_verified_at is None
    response = post_form(client, path, {})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(User, user.id).email_verified_at is not None
    assert "Please confirm your email address" not in client.get("/dashboard").get_data(
        as_text=True
    )
    assert post_form(client, path, {}, page="/dashboard").status_code == 400  # used


def test_verification_link_works_signed_out_but_not_for_another_account(
    smtp_app, smtp_server, session, make_user
):
    """The mailbox's owner may confirm without signing in; signed in as someone else, refused."""
    client = smtp_app.test_client()
    _signup(client)
    path = mailed_link(smtp_app, smtp_server, "ada@example.com", "email/verify")
    bob = smtp_app.test_client()
    login(bob, make_user("bob"))
    response = post_form(bob, path, {}, page="/dashboard")
    assert response.status_code == 400
    assert "another account" in response.get_data(as_text=True)
    anonymous = smtp_app.test_client()
    assert post_form(anonymous, path, {}, page="/login").status_code == 302
    assert session.exec(select(User).where(User.handle == "ada-l")).one().email_verified


def test_resend_replaces_the_link_and_is_rate_limited(smtp_app, smtp_server, session, make_user):
    """A resend mails a new link (the old one stops working); past the limit it is a 429."""
    smtp_app.config["ACCOUNT_EMAIL_ADDRESS_RATE_LIMIT"] = "2 per minute"
    client = smtp_app.test_client()
    _signup(client)
    first = mailed_link(smtp_app, smtp_server, "ada@example.com", "email/verify")
    assert post_form(client, "/settings/email/verify", {}, page="/dashboard").status_code == 303
    second = mailed_link(smtp_app, smtp_server, "ada@example.com", "email/verify")
    assert first != second
    assert client.get(first).status_code == 400
    assert client.get(second).status_code == 200
    assert post_form(client, "/settings/email/verify", {}, page="/dashboard").status_code == 303
    assert post_form(client, "/settings/email/verify", {}, page="/dashboard").status_code == 429


def test_require_verified_email_blocks_comments_and_publishing(
    app, client, session, make_user, make_project, make_token
):
    """With the setting on, an unconfirmed owner cannot comment or publish (page or API)."""
    app.config["REQUIRE_VERIFIED_EMAIL"] = True
    ada = make_user("ada")
    project = make_project(ada)
    login(client, ada)
    assert "Until then you cannot comment or publish" in client.get("/dashboard").get_data(
        as_text=True
    )
    base = f"/u/ada/{project.slug}"
    comment = post_form(client, f"{base}/comments", {"body": "First!"}, page=base)
    assert comment.status_code == 403
    assert "Confirm your email address" in comment.get_data(as_text=True)
    publish = post_form(
        client,
        f"{base}/edit",
        {"title": project.title, "slug": project.slug, "summary": "s", "visibility": "public"},
    )
    assert publish.status_code == 422
    assert "Confirm your email address before you publish" in publish.get_data(as_text=True)
    api = client.application.test_client().patch(
        f"/api/v1/projects/{project.id}",
        json={"visibility": "public"},
        headers=bearer(make_token(ada)),
    )
    assert api.status_code == 403
    assert "Confirm your email address" in api.get_data(as_text=True)
    session.expire_all()
    assert session.get(Project, project.id).visibility == Visibility.draft
    assert session.exec(select(Comment)).all() == []

    _verify(session, ada)
    assert post_form(client, f"{base}/comments", {"body": "First!"}, page=base).status_code == 303
    app.config["REQUIRE_VERIFIED_EMAIL"] = False


def test_unverified_may_comment_when_the_setting_is_off(client, session, make_user, make_project):
    """Off (the default), the banner asks but nothing is restricted."""
    ada = make_user("ada")
    project = make_project(ada)
    login(client, ada)
    base = f"/u/ada/{project.slug}"
    assert post_form(client, f"{base}/comments", {"body": "Hi"}, page=base).status_code == 303


def test_email_change_needs_the_new_address_to_confirm(smtp_app, smtp_server, session, make_user):
    """A link goes to the new address and a notice to the old; only the link changes it."""
    ada = make_user("ada")
    client = smtp_app.test_client()
    login(client, ada)
    response = post_form(
        client, "/settings/email", {"new_email": "Ada.New@Example.com", "password": TEST_PASSWORD}
    )
    assert response.status_code == 303
    session.expire_all()
    assert session.get(User, ada.id).email == "ada@example.com"  # not yet
    path = mailed_link(smtp_app, smtp_server, "ada.new@example.com", "email/confirm")
    notice = [m for m in smtp_server.messages if m.rcpt_tos == ["ada@example.com"]]
    assert len(notice) == 1
    text = notice[0].message.get_body(("plain",)).get_content()
    assert "a******@example.com" in text and "/email/confirm/" not in text
    assert post_form(client, path, {}, page="/dashboard").status_code == 302
    session.expire_all()
    stored = session.get(User, ada.id)
    assert stored.email == "ada.new@example.com"
    assert stored.email_verified
    assert login(smtp_app.test_client(), stored).status_code == 302


def test_email_change_bad_input_changes_nothing(client, session, make_user):
    """Wrong password, same address, malformed or taken address: 422/409, nothing queued."""
    ada = make_user("ada")
    make_user("bob")
    login(client, ada)
    cases = [
        ({"new_email": "new@example.com", "password": "wrong password"}, "not right"),
        ({"new_email": "ADA@example.com", "password": TEST_PASSWORD}, "already your address"),
        ({"new_email": "not an address", "password": TEST_PASSWORD}, "not valid"),
        ({"new_email": "Bob@Example.com", "password": TEST_PASSWORD}, "already exists"),
    ]
    for data, message in cases:
        response = post_form(client, "/settings/email", data)
        assert response.status_code in (409, 422), data
        assert message in response.get_data(as_text=True), data
    assert session.exec(select(Delivery)).all() == []
    assert session.exec(select(EmailToken)).all() == []


def test_address_taken_before_confirmation_is_refused(smtp_app, smtp_server, session, make_user):
    """Someone signs up with the new address meanwhile: the confirmation is refused, no change."""
    ada = make_user("ada")
    client = smtp_app.test_client()
    login(client, ada)
    post_form(
        client, "/settings/email", {"new_email": "new@example.com", "password": TEST_PASSWORD}
    )
    path = mailed_link(smtp_app, smtp_server, "new@example.com", "email/confirm")
    make_user("carol", email="NEW@example.com")
    response = post_form(client, path, {}, page="/dashboard")
    assert response.status_code == 409
    assert "belongs to another account" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, ada.id).email == "ada@example.com"


def test_api_tokens_cannot_change_the_email(app, session, make_user, make_token):
    """A bearer token does not sign a browser in: the settings page sends it to log in."""
    ada = make_user("ada")
    client = app.test_client()
    headers = bearer(make_token(ada))
    page = client.get("/settings/email", headers=headers)
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    response = client.post(
        "/settings/email",
        data={"new_email": "x@example.com", "password": TEST_PASSWORD},
        headers=headers,
    )
    assert response.status_code in (302, 400)
    assert session.exec(select(EmailToken)).all() == []
    session.expire_all()
    assert session.get(User, ada.id).email == "ada@example.com"
    # The API has no operation for it either.
    for method in ("PATCH", "PUT", "POST"):
        api = client.open(
            "/api/v1/me", method=method, json={"email": "x@example.com"}, headers=headers
        )
        assert api.status_code in (404, 405), method
    session.expire_all()
    assert session.get(User, ada.id).email == "ada@example.com"


def test_link_pages_refuse_bad_tokens_without_a_500(client, make_user):
    """Garbage in the link path is a clear 400 on every link page, for GET and POST."""
    login(client, make_user("ada"))
    token = csrf_token(client, "/dashboard")
    for path in ("/email/verify/", "/email/confirm/", "/password/reset/"):
        for junk in ("x", "%00%01", "A" * 500, "..%2F..%2Fetc"):
            assert client.get(path + junk).status_code in (400, 404), path + junk
            response = client.post(path + junk, data={"csrf_token": token})
            assert response.status_code in (400, 404), path + junk


def test_first_dashboard_says_what_to_do_first(client, session, make_user):
    """A new user's dashboard starts with planning the season's project."""
    client_ = client
    assert _signup(client_).headers["Location"] == "/dashboard"
    html = client_.get("/dashboard").get_data(as_text=True)
    assert "Start here" in html and "Plan your season" in html
    assert link_in  # imported for the other tests


def test_expired_verification_link_offers_a_new_one(smtp_app, smtp_server, session):
    """After 7 days the link says it expired and the page offers to send a new one."""
    from datetime import timedelta

    client = smtp_app.test_client()
    _signup(client)
    path = mailed_link(smtp_app, smtp_server, "ada@example.com", "email/verify")
    token = session.exec(select(EmailToken)).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    response = client.get(path)
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "expired" in html and 'action="/settings/email/verify"' in html
    assert post_form(client, path, {}, page="/dashboard").status_code == 410
    session.expire_all()
    assert not session.exec(select(User)).one().email_verified


def test_a_pending_email_change_dies_with_a_password_change(
    smtp_app, smtp_server, session, make_user
):
    """An intruder's email change, still unconfirmed, stops working once the owner changes
    the password (the notice to the old address tells them to)."""
    ada = make_user("ada")
    intruder = smtp_app.test_client()
    login(intruder, ada)
    post_form(
        intruder, "/settings/email", {"new_email": "thief@example.com", "password": TEST_PASSWORD}
    )
    path = mailed_link(smtp_app, smtp_server, "thief@example.com", "email/confirm")
    owner = smtp_app.test_client()
    login(owner, ada)
    new = "another horse battery staple"
    changed = post_form(
        owner, "/settings/password", {"current": TEST_PASSWORD, "new": new, "confirm": new}
    )
    assert changed.status_code == 302
    response = post_form(smtp_app.test_client(), path, {}, page="/login")
    assert response.status_code == 400
    session.expire_all()
    assert session.get(User, ada.id).email == "ada@example.com"


def test_email_change_requests_are_rate_limited_per_account(client, app, session, make_user):
    """Each request mails an address of the requester's choosing, so it is budgeted."""
    app.config["ACCOUNT_EMAIL_ADDRESS_RATE_LIMIT"] = "2 per minute"
    ada = make_user("ada")
    login(client, ada)
    codes = [
        post_form(
            client, "/settings/email", {"new_email": f"n{i}@example.com", "password": TEST_PASSWORD}
        ).status_code
        for i in range(3)
    ]
    assert codes == [303, 303, 429]
    assert len(session.exec(select(EmailToken)).all()) == 1  # the newer request replaced the first
