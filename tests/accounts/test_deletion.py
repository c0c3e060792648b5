"""Account deletion: everything of the person goes, nobody else's data does."""

from __future__ import annotations

import pytest
from sqlmodel import select

from portfolio.auth import deletion
from portfolio.models import (
    AdminLogEntry,
    Comment,
    Delivery,
    Notification,
    OfflineImport,
    Project,
    ProjectImage,
    RunLink,
    User,
)
from portfolio.projects import images
from portfolio.storage import StorageNotFound, get_storage
from tests.conftest import TEST_PASSWORD, csrf_token, login

from .deletion_world import all_rows, rows_holding


def _delete_own(world, client, *, password=TEST_PASSWORD, handle="bob"):
    return client.post(
        "/settings/delete",
        data={
            "password": password,
            "confirm_handle": handle,
            "csrf_token": csrf_token(client, "/settings/delete"),
        },
    )


def _eves_rows(world) -> dict[str, int]:
    return rows_holding(world.session, world.eve.id)


def _expect(before: dict[str, int], changes: dict[str, int]) -> dict[str, int]:
    """The counts `before`, changed by `changes`, without the ones that fall to zero."""
    after = {key: before.get(key, 0) + changes.get(key, 0) for key in before | changes}
    return {key: count for key, count in after.items() if count}


def test_deleting_an_account_leaves_no_trace_of_its_id_in_any_table(world, client):
    """After deletion, no column referencing users.id holds the id; bystanders keep theirs."""
    bob = world.bob
    before = rows_holding(world.session, bob.id)
    assert len(before) >= 20, before  # the fixture really filled every area
    eve_before, dave_before = _eves_rows(world), rows_holding(world.session, world.dave.id)
    with world.app.app_context():
        storage = get_storage()
        # An offline run Bob uploaded to his solo project, still waiting for its import.
        storage.put("offline-imports/bob.zip", b"PK", "application/zip")
        world.session.add(
            OfflineImport(
                project_id=world.solo.id, user_id=bob.id, storage_key="offline-imports/bob.zip"
            )
        )
        world.session.commit()
    login(client, bob)
    response = _delete_own(world, client)
    assert response.status_code == 303, response.get_data(as_text=True)

    assert rows_holding(world.session, bob.id) == {}
    # Nor does any row anywhere still carry the address (emails, deliveries, logs).
    everything = repr(all_rows(world.session))
    assert bob.email not in everything
    session = world.session
    assert session.get(User, bob.id) is None
    # Eve and Dave keep all their rows but those tied to Bob's things; Eve's reply to
    # Bob's comment stays in its thread.
    assert _eves_rows(world) == _expect(
        # Her comment on Bob's solo project went with it; Bob was her mentor.
        eve_before,
        {"comments.author_id": -1, "mentor_assignments.learner_id": -1},
    )
    dave_after = rows_holding(world.session, world.dave.id)
    # Dave's notification about Bob's comment (and its email) went with the comment;
    # his report was about a comment on Bob's deleted project.
    assert dave_after == _expect(
        dave_before,
        {"notifications.user_id": -1, "deliveries.user_id": -1, "comment_reports.reporter_id": -1},
    )
    kept = session.get(Comment, world.kept_comment.id)
    assert kept.body_md == "" and kept.deleted_at is not None
    assert session.get(User, kept.author_id).handle == deletion.PLACEHOLDER_HANDLE
    assert client.get(f"/u/{deletion.PLACEHOLDER_HANDLE}").status_code == 404
    replies = session.exec(select(Comment).where(Comment.parent_id == kept.id)).all()
    assert [r.body_md for r in replies] == ["Eve answers Bob"]
    assert not session.exec(select(Comment).where(Comment.body_md.like("Bob%"))).all()
    assert not session.exec(select(Notification).where(Notification.body.like("Bob%"))).all()
    # Projects: solo and the one with only an invitation are gone; the team project is Carol's.
    assert session.get(Project, world.solo.id) is None
    assert session.get(Project, world.pending_team.id) is None
    team = session.get(Project, world.team.id)
    assert team.owner_id == world.carol.id
    assert session.get(Project, world.daves.id).version > world.daves.version
    # Stored files: the solo project's image and queued upload are gone; Bob's upload
    # on Dave's project stays.
    with world.app.app_context():
        for key in (images.storage_key(world.solo_image), "offline-imports/bob.zip"):
            with pytest.raises(StorageNotFound):
                storage.get(key)
    daves_images = session.exec(
        select(ProjectImage).where(ProjectImage.project_id == world.daves.id)
    ).all()
    assert len(daves_images) == 1 and daves_images[0].uploaded_by_id is None
    assert session.exec(select(RunLink).where(RunLink.project_id == world.daves.id)).all()
    assert session.exec(select(Delivery).where(Delivery.user_id == world.eve.id)).all()
    # Signed out, and the handle is reserved.
    assert client.get("/settings/profile").status_code == 302


def test_public_pages_404_at_once_even_when_cached(world, app):
    """Profile and project pages that were cached for visitors answer 404 right after."""
    visitor = app.test_client()
    urls = ["/u/bob", f"/u/bob/{world.solo.slug}", f"/u/bob/{world.solo.slug}/og.png"]
    for url in urls:
        assert visitor.get(url).status_code == 200, url
    assert visitor.get(urls[1]).status_code == 200  # second hit: from the page cache
    client = app.test_client()
    login(client, world.bob)
    assert _delete_own(world, client).status_code == 303
    for url in urls:
        assert visitor.get(url).status_code == 404, url
    team = world.session.get(Project, world.team.id)
    assert visitor.get(f"/u/bob/{team.slug}").status_code == 404
    dave_page = visitor.get(f"/u/dave/{world.daves.slug}")
    html = dave_page.get_data(as_text=True)
    assert dave_page.status_code == 200 and "Eve answers Bob" in html
    for gone in ("@bob", "Bob&#39;s secret opinion", "Bob answers", "/u/bob"):
        assert gone not in html, gone


def test_wrong_password_or_handle_deletes_nothing(world, client):
    """A wrong password, a wrong handle or a missing CSRF token: 4xx, every row unchanged."""
    login(client, world.bob)
    before = all_rows(world.session)
    wrong_password = _delete_own(world, client, password="not my password at all")
    assert wrong_password.status_code == 422
    assert "password is not right" in wrong_password.get_data(as_text=True)
    wrong_handle = _delete_own(world, client, handle="carol")
    assert wrong_handle.status_code == 422
    assert "Type your handle, bob" in wrong_handle.get_data(as_text=True)
    assert _delete_own(world, client, handle="").status_code == 422
    no_csrf = client.post(
        "/settings/delete", data={"password": TEST_PASSWORD, "confirm_handle": "bob"}
    )
    assert no_csrf.status_code == 400
    assert all_rows(world.session) == before
    assert client.get("/settings/delete").status_code == 200  # still signed in


def test_the_delete_page_offers_the_data_download_first(world, client):
    """The download link comes before the form that deletes."""
    login(client, world.bob)
    html = client.get("/settings/delete").get_data(as_text=True)
    assert html.index("/settings/data.json") < html.index('name="password"')


def test_admin_deletes_with_a_reason_in_the_admin_log(world, app):
    """Admins delete others' accounts with a reason; others cannot; no reason, no deletion."""
    as_dave = app.test_client()
    login(as_dave, world.dave)
    url = f"/admin/users/{world.bob.id}/delete"
    assert as_dave.get(url).status_code == 403
    admin = app.test_client()
    login(admin, world.ada)
    before = all_rows(world.session)
    token = csrf_token(admin, url)
    assert admin.post(url, data={"reason": " ", "csrf_token": token}).status_code == 422
    assert all_rows(world.session) == before
    response = admin.post(url, data={"reason": "Spam account", "csrf_token": token})
    assert response.status_code == 303
    assert rows_holding(world.session, world.bob.id) == {}
    entry = world.session.exec(select(AdminLogEntry).where(AdminLogEntry.subject == "@bob")).one()
    assert (entry.actor_id, entry.reason, entry.action) == (
        world.ada.id,
        "Spam account",
        "account.delete",
    )
    log = admin.get("/admin/users").get_data(as_text=True)
    assert "The account @bob is deleted: 2 project(s) deleted" in log
    assert "handed over to @carol" in log
    assert "Spam account" in log and "@bob" in log
    assert admin.get("/admin/users/999999/delete").status_code == 404


def test_the_last_admin_cannot_be_deleted(world, client):
    """The only admin is refused, by themself; with a second admin it works."""
    login(client, world.ada)
    before = all_rows(world.session)
    refused = _delete_own(world, client, handle="ada")
    assert refused.status_code == 422 and "last admin" in refused.get_data(as_text=True)
    assert all_rows(world.session) == before
    other = world.session.get(User, world.dave.id)
    other.role = "admin"
    world.session.add(other)
    world.session.commit()
    assert _delete_own(world, client, handle="ada").status_code == 303
    assert world.session.get(User, world.ada.id) is None


def test_admin_actions_on_an_id_past_the_integer_range_are_404(world, client):
    """A huge id in the URL is no account (404), not an overflow (500)."""
    login(client, world.ada)
    huge = 2**63
    assert client.get(f"/admin/users/{huge}/delete").status_code == 404
    token = csrf_token(client, "/admin/users")
    assert client.post(f"/admin/users/{huge}/role", data={"csrf_token": token}).status_code == 404
