"""Comments: posting, replies, edit window, delete, mentions, order, permalinks, cache."""

from __future__ import annotations

from datetime import timedelta

from portfolio.models import Project

from .conftest import comment, last_comment, post


def test_peer_comments_learner_is_notified_and_replies(world) -> None:
    """The issue's first "done when": peer comments, learner hears of it and replies."""
    pete, maya = world.client(world.pete), world.client(world.maya)
    response = comment(world, pete, "Nice baseline! Did you try **dropout**?")
    first = last_comment(world)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{world.url}#comment-{first.id}")
    [note] = world.notifications(world.maya)
    assert note.kind == "comment" and note.payload["category"] == "comments"
    assert "Pete" in note.title and note.url.endswith(f"/comments/{first.id}#comment-{first.id}")
    assert world.notifications(world.pete) == []  # never told of your own comment

    assert comment(world, maya, "Not yet, next week.", parent_id=first.id).status_code == 303
    reply = last_comment(world)
    assert reply.parent_id == first.id
    [answer] = world.notifications(world.pete)
    assert answer.kind == "reply" and answer.payload["category"] == "mentions"
    assert len(world.notifications(world.maya)) == 1

    html = world.client().get(world.url).get_data(as_text=True)
    assert "<strong>dropout</strong>" in html and "Not yet, next week." in html
    assert f'id="comment-{first.id}"' in html and f'id="comment-{reply.id}"' in html


def test_reply_to_a_reply_is_refused_clearly(world) -> None:
    pete = world.client(world.pete)
    comment(world, pete, "Top")
    top = last_comment(world)
    comment(world, world.client(world.maya), "Reply", parent_id=top.id)
    reply = last_comment(world)
    response = comment(world, pete, "Reply to the reply", parent_id=reply.id)
    assert response.status_code == 422
    assert "Replies go one level deep" in response.get_data(as_text=True)
    assert "Reply to the reply" in response.get_data(as_text=True)  # the text is kept
    assert len(world.comments()) == 2


def test_edit_within_window_shows_edited_then_closes(world, app) -> None:
    pete = world.client(world.pete)
    comment(world, pete, "Typo hree")
    c = last_comment(world)
    edit = f"{world.url}/comments/{c.id}/edit"
    assert pete.get(edit).status_code == 200
    assert post(pete, edit, {"body": "Typo here"}).status_code == 303
    assert world.refresh(c).body_md == "Typo here" and world.refresh(c).edited_at is not None
    assert "· edited" in world.client().get(world.url).get_data(as_text=True)

    app.config["COMMENT_EDIT_MINUTES"] = 0
    late = post(pete, edit, {"body": "Too late"})
    assert late.status_code == 409 and "can be edited for 0 minutes" in late.get_data(as_text=True)
    assert pete.get(edit).status_code == 403
    assert world.refresh(c).body_md == "Typo here"


def test_editing_or_deleting_another_persons_comment_is_403(world) -> None:
    comment(world, world.client(world.pete), "Mine")
    c = last_comment(world)
    maya = world.client(world.maya)  # even the project owner
    assert post(maya, f"{world.url}/comments/{c.id}/edit", {"body": "Hacked"}).status_code == 403
    assert maya.get(f"{world.url}/comments/{c.id}/edit").status_code == 403
    assert post(maya, f"{world.url}/comments/{c.id}/delete").status_code == 403
    c = world.refresh(c)
    assert c.body_md == "Mine" and c.deleted_at is None and c.edited_at is None


def test_delete_own_leaves_a_placeholder_and_keeps_replies(world) -> None:
    pete = world.client(world.pete)
    comment(world, pete, "Soon to go")
    top = last_comment(world)
    comment(world, world.client(world.maya), "An answer that stays", parent_id=top.id)
    assert post(pete, f"{world.url}/comments/{top.id}/delete").status_code == 303
    html = world.client().get(world.url).get_data(as_text=True)
    assert "This comment was deleted." in html and "Soon to go" not in html
    assert "An answer that stays" in html
    # Without replies a deleted comment leaves nothing behind.
    comment(world, pete, "Alone")
    alone = last_comment(world)
    post(pete, f"{world.url}/comments/{alone.id}/delete")
    html = world.client().get(world.url).get_data(as_text=True)
    assert f'id="comment-{alone.id}"' not in html and html.count("This comment was deleted.") == 1


def test_mentions_notify_only_people_who_may_see(world) -> None:
    pete = world.client(world.pete)
    response = comment(world, pete, "cc @mira @nobody-here @maya and `@otto` in code, a@sam.io")
    assert response.status_code == 303
    flashes = pete.get(world.url).get_data(as_text=True)
    assert "Nobody was notified for @nobody-here" in flashes
    [note] = world.notifications(world.mira)
    assert note.kind == "mention" and note.payload["category"] == "mentions"
    [owner_note] = world.notifications(world.maya)  # one notification, the mention wins
    assert owner_note.kind == "mention"
    assert world.notifications(world.otto) == [] and world.notifications(world.sam) == []


def test_mentions_on_a_draft_skip_people_who_cannot_see_it(world) -> None:
    from portfolio.models import Visibility

    world.set_visibility(Visibility.draft)
    comment(world, world.client(world.maya), "@sam and @mira, have a look")
    assert world.notifications(world.sam) == []
    assert [n.kind for n in world.notifications(world.mira)] == ["mention"]


def test_editing_in_a_mention_tells_only_the_new_person(world) -> None:
    pete = world.client(world.pete)
    comment(world, pete, "Hello @mira")
    c = last_comment(world)
    post(pete, f"{world.url}/comments/{c.id}/edit", {"body": "Hello @mira and @otto"})
    assert len(world.notifications(world.mira)) == 1
    assert [n.kind for n in world.notifications(world.otto)] == ["mention"]


def test_mentor_comments_are_marked(world) -> None:
    comment(world, world.client(world.mira), "Mentor here")
    html = world.client().get(world.url).get_data(as_text=True)
    assert '<span class="badge badge-mentor">Mentor</span>' in html


def test_threads_are_ordered_by_newest_activity(world, session) -> None:
    pete = world.client(world.pete)
    comment(world, pete, "Thread A")
    a = last_comment(world)
    comment(world, pete, "Thread B")
    b = last_comment(world)
    # Give A an older timestamp so the order cannot come from ids by accident.
    for c, minutes in ((a, 20), (b, 10)):
        c = session.get(type(c), c.id)
        c.created_at -= timedelta(minutes=minutes)
        session.add(c)
    session.commit()
    html = world.client(world.sam).get(world.url).get_data(as_text=True)
    assert html.index("Thread B") < html.index("Thread A")
    comment(world, world.client(world.maya), "Reply bumps A", parent_id=a.id)
    html = world.client(world.sam).get(world.url).get_data(as_text=True)
    assert html.index("Thread A") < html.index("Thread B")


def test_permalink_shows_the_thread(world) -> None:
    pete = world.client(world.pete)
    comment(world, pete, "Root of thread")
    root = last_comment(world)
    comment(world, world.client(world.maya), "The reply", parent_id=root.id)
    reply = last_comment(world)
    page = world.client().get(f"{world.url}/comments/{reply.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Root of thread" in html and f'id="comment-{reply.id}"' in html
    assert world.client().get(f"{world.url}/comments/99999").status_code == 404
    assert world.client().get(f"{world.url}/comments/99999999999").status_code == 404


def test_anonymous_readers_see_comments_but_no_forms(world) -> None:
    comment(world, world.client(world.pete), "Visible to all")
    anon = world.client()
    html = anon.get(world.url).get_data(as_text=True)
    assert "Visible to all" in html and "Log in</a> to join the discussion" in html
    assert 'name="csrf_token"' not in html and "<textarea" not in html


def test_anonymous_cannot_post(world) -> None:
    anon = world.client()
    response = comment(world, anon, "Drive-by")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert world.comments() == []


def test_cached_page_shows_a_new_comment_on_the_next_request(world) -> None:
    """Anonymous pages are cached per project version; a comment bumps it."""
    anon = world.client()
    before = anon.get(world.url)
    version = world.refresh(world.project).version
    comment(world, world.client(world.pete), "Fresh news")
    assert world.refresh(world.project).version == version + 1
    after = anon.get(world.url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and "Fresh news" in after.get_data(as_text=True)


def test_member_comments_count_as_activity_others_do_not(world, session) -> None:
    project = session.get(Project, world.project.id)
    project.last_activity_at -= timedelta(days=20)
    session.add(project)
    session.commit()
    stale = world.refresh(project).last_activity_at
    comment(world, world.client(world.pete), "From a peer")
    assert world.refresh(project).last_activity_at == stale
    comment(world, world.client(world.maya), "From the owner")
    assert world.refresh(project).last_activity_at > stale
