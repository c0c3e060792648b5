"""Hidden means hidden everywhere: a hidden comment's text leaves notifications too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from portfolio.auth import tokens
from portfolio.models import Delivery, DeliveryStatus, Notification

from .conftest import comment, last_comment, post

SECRET = "Her home address is 12 Elm Street"


def _api_token(world) -> str:
    now = datetime.now(UTC)
    with world.app.app_context():
        new = tokens.create(
            world.session,
            world.session.merge(world.maya),
            name="read",
            access="read",
            expires_at=now + timedelta(days=1),
            now=now,
        )
        world.session.commit()
    return new.secret


def _everywhere(world, client, secret: str) -> dict[str, bool]:
    """Where maya can read her notifications: page, API, data export."""
    api = client.get("/api/v1/notifications", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    return {
        "page": SECRET in client.get("/notifications").get_data(as_text=True),
        "api": SECRET in api.get_data(as_text=True),
        "export": SECRET in client.get("/settings/data.json").get_data(as_text=True),
    }


def test_hiding_a_comment_removes_its_text_from_members_notifications(world) -> None:
    """After hiding, page, API and data export show a placeholder; unhiding restores it."""
    comment(world, world.client(world.pete), SECRET)
    c = last_comment(world)
    maya = world.client(world.maya)
    secret = _api_token(world)
    assert _everywhere(world, maya, secret) == {"page": True, "api": True, "export": True}

    assert post(world.client(world.mira), f"{world.url}/comments/{c.id}/hide").status_code == 303
    assert _everywhere(world, maya, secret) == {"page": False, "api": False, "export": False}
    assert "hidden by a moderator" in maya.get("/notifications").get_data(as_text=True)
    world.session.expire_all()
    bodies = world.session.exec(select(Notification.body)).all()
    assert bodies and not any(SECRET in b for b in bodies)

    assert post(world.client(world.ada), f"{world.url}/comments/{c.id}/unhide").status_code == 303
    assert _everywhere(world, maya, secret)["page"] is True


def test_deleting_a_comment_cancels_its_unsent_email(world) -> None:
    """An email about a comment that its author deleted is never sent; the text goes too."""
    comment(world, world.client(world.pete), SECRET)
    c = last_comment(world)
    world.session.expire_all()
    pending = world.session.exec(
        select(Delivery).where(Delivery.status == DeliveryStatus.pending)
    ).all()
    assert pending, "maya's default is an email for comments"
    assert post(world.client(world.pete), f"{world.url}/comments/{c.id}/delete").status_code in (
        302,
        303,
    )
    world.session.expire_all()
    for delivery in pending:
        assert world.session.get(Delivery, delivery.id).status == DeliveryStatus.cancelled
    assert all(SECRET not in n.body for n in world.notifications(world.maya))
