"""Who may comment: the project's policy, drafts, anonymous visitors."""

from __future__ import annotations

from portfolio.models import CommentPolicy, Project, Visibility

from .conftest import comment, post


def _set_policy(world, policy: CommentPolicy) -> None:
    project = world.session.get(Project, world.project.id)
    project.comment_policy = policy.value
    world.session.add(project)
    world.session.commit()


def test_cohort_default_admits_the_season_and_mentors_only(world) -> None:
    assert world.refresh(world.project).comment_policy == "cohort"
    stranger = comment(world, world.client(world.sam), "Hi from outside")
    assert stranger.status_code == 403
    assert "cohort" in stranger.get_data(as_text=True)
    assert comment(world, world.client(world.pete), "Peer").status_code == 303
    assert comment(world, world.client(world.otto), "Any mentor").status_code == 303
    assert [c.body_md for c in world.comments()] == ["Peer", "Any mentor"]
    html = world.client(world.sam).get(world.url).get_data(as_text=True)
    assert "Only people in this season&#39;s cohort and mentors can comment" in html


def test_signed_in_policy_admits_anyone_signed_in(world) -> None:
    _set_policy(world, CommentPolicy.signed_in)
    assert comment(world, world.client(world.sam), "Hello").status_code == 303


def test_mentors_policy_admits_mentors_and_the_members(world) -> None:
    _set_policy(world, CommentPolicy.mentors)
    assert comment(world, world.client(world.pete), "Peer").status_code == 403
    assert comment(world, world.client(world.otto), "Mentor").status_code == 303
    assert comment(world, world.client(world.maya), "Learner answers").status_code == 303
    assert len(world.comments()) == 2


def test_members_change_the_policy_others_cannot(world) -> None:
    path = f"{world.url}/comment-policy"
    assert post(world.client(world.pete), path, {"comment_policy": "mentors"}).status_code == 403
    maya = world.client(world.maya)
    bad = post(maya, path, {"comment_policy": "everyone"})
    assert bad.status_code == 422 and "Choose cohort" in bad.get_data(as_text=True)
    assert world.refresh(world.project).comment_policy == "cohort"
    assert post(maya, path, {"comment_policy": "signed_in"}).status_code == 303
    assert world.refresh(world.project).comment_policy == "signed_in"
    assert "Anyone who is signed in" in world.client().get(world.url).get_data(as_text=True)


def test_comments_on_drafts_are_hidden_from_those_who_cannot_see_the_draft(world) -> None:
    comment(world, world.client(world.pete), "Said while public")
    [first] = world.comments()
    world.set_visibility(Visibility.draft)
    for client in (world.client(), world.client(world.pete), world.client(world.otto)):
        assert client.get(world.url).status_code == 404
        assert client.get(f"{world.url}/comments/{first.id}").status_code == 404
        assert client.get(f"{world.url}/discussion").status_code == 404
    # Posting where you cannot look is a 404 too, and writes nothing.
    assert comment(world, world.client(world.pete), "Sneaky").status_code == 404
    assert len(world.comments()) == 1
    for user in (world.maya, world.mira, world.ada):
        html = world.client(user).get(world.url).get_data(as_text=True)
        assert "Said while public" in html


def test_suspended_account_cannot_post(world, session) -> None:
    from portfolio.discussion import service
    from portfolio.discussion.rules import Limits
    from portfolio.errors import Forbidden
    from portfolio.models import User, utcnow

    pete = session.get(User, world.pete.id)
    pete.suspended_at = utcnow()
    session.add(pete)
    session.commit()
    project = session.get(Project, world.project.id)
    with world.app.app_context():
        try:
            service.post_comment(
                session, project=project, author=pete, body="x", now=utcnow(), limits=Limits()
            )
        except Forbidden as err:
            assert "suspended" in err.message
        else:  # pragma: no cover - the assertion is the point
            raise AssertionError("a suspended account posted")
    session.rollback()
    assert world.comments() == []
