"""A deleted account's handle stays reserved for 90 days, then is free again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from portfolio.auth import deletion, handles
from portfolio.models import HandleReservation, User
from tests.conftest import TEST_PASSWORD, csrf_token, login

from .deletion_world import backdate_reservations


def _delete(app, session, handle: str) -> None:
    with app.app_context():
        user = session.exec(select(User).where(User.handle == handle)).one()
        deletion.delete_account(session, user, now=datetime.now(UTC))
        session.commit()


def _sign_up(client, handle: str):
    return client.post(
        "/signup",
        data={
            "email": f"new-{handle}@example.com",
            "handle": handle,
            "display_name": "Newcomer",
            "password": TEST_PASSWORD,
            "timezone": "UTC",
            "csrf_token": csrf_token(client, "/signup"),
        },
    )


def test_sign_up_with_a_reserved_handle_is_refused_until_it_expires(app, session, make_user):
    """Sign-up says the handle is reserved (and until when); after expiry it works."""
    make_user("bob")
    _delete(app, session, "bob")
    row = session.exec(select(HandleReservation)).one()
    assert row.handle == "bob"
    expected = datetime.now(UTC) + timedelta(days=handles.RESERVATION_DAYS)
    assert abs(row.reserved_until - expected) < timedelta(minutes=1)
    client = app.test_client()
    refused = _sign_up(client, "bob")
    assert refused.status_code == 422
    assert "belonged to an account that was deleted" in refused.get_data(as_text=True)
    assert session.exec(select(User).where(User.handle == "bob")).first() is None
    backdate_reservations(session, days=1)
    assert _sign_up(client, "bob").status_code == 302
    assert session.exec(select(User).where(User.handle == "bob")).one()


def test_renaming_to_a_reserved_handle_is_refused(app, session, make_user, client):
    """Changing one's handle to a reserved one fails with the same message, nothing saved."""
    make_user("bob")
    carol = make_user("carol")
    _delete(app, session, "bob")
    login(client, carol)
    response = client.post(
        "/settings/profile",
        data={
            "display_name": "Carol",
            "handle": "bob",
            "timezone": "UTC",
            "bio": "",
            "csrf_token": csrf_token(client, "/settings/profile"),
        },
    )
    assert response.status_code == 422
    assert "reserved until" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, carol.id).handle == "carol"


def test_a_handle_deleted_twice_is_reserved_again(app, session, make_user):
    """An expired reservation is replaced, not duplicated, when the handle goes again."""
    make_user("bob")
    _delete(app, session, "bob")
    backdate_reservations(session, days=1)
    make_user("bob")
    _delete(app, session, "bob")
    rows = session.exec(select(HandleReservation)).all()
    assert len(rows) == 1 and rows[0].reserved_until > datetime.now(UTC)
