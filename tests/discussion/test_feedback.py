"""Feedback requests: the mentor queue, answering, flagging after 7 days, any mentor."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

import scheduler
from portfolio.models import FeedbackRequest, Update, Visibility, utcnow

from .conftest import comment, post


def _ask(world, body: str = "Is my eval split right?", **extra) -> Update:
    maya = world.client(world.maya)
    response = post(maya, f"{world.url}/updates", {"body": body, "ask_feedback": "y", **extra})
    assert response.status_code == 303
    world.session.expire_all()
    return world.session.exec(select(Update).order_by(Update.id.desc())).first()


def _request(world, update: Update) -> FeedbackRequest:
    world.session.expire_all()
    return world.session.exec(
        select(FeedbackRequest).where(FeedbackRequest.update_id == update.id)
    ).one()


def _age(world, update: Update, days: int) -> None:
    request = _request(world, update)
    request.created_at -= timedelta(days=days)
    world.session.add(request)
    world.session.commit()


def test_mentor_answers_from_the_queue_and_the_learner_is_notified(world) -> None:
    """The issue's "done when": learner asks, the mentor answers from /mentor."""
    update = _ask(world)
    mira = world.client(world.mira)
    queue = mira.get("/mentor").get_data(as_text=True)
    assert "Is my eval split right?" in queue and "Feedback requests" in queue
    # Not in the queue of a mentor who is not maya's.
    assert "Is my eval split right?" not in world.client(world.otto).get("/mentor").get_data(
        as_text=True
    )
    answer = comment(world, mira, "Stratify by writer.", update_id=update.id, next="/mentor")
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/mentor#comment-")
    request = _request(world, update)
    assert request.answered_at is not None and request.answered_by_id == world.mira.id
    notes = world.notifications(world.maya)
    assert [(n.kind, n.payload["category"]) for n in notes] == [("feedback_answered", "feedback")]
    assert "Is my eval split right?" not in mira.get("/mentor").get_data(as_text=True)
    assert "Feedback answered" in world.client().get(world.url).get_data(as_text=True)


def test_a_peer_comment_does_not_answer_the_request(world) -> None:
    update = _ask(world)
    comment(world, world.client(world.pete), "Looks fine to me", update_id=update.id)
    comment(world, world.client(world.otto), "Not my learner", update_id=update.id)
    assert _request(world, update).answered_at is None


def test_queue_is_oldest_first_and_any_mentor_requests_reach_every_mentor(world) -> None:
    older = _ask(world, "Older question", any_mentor="y")
    _ask(world, "Newer question")
    _age(world, older, 2)
    mira = world.client(world.mira).get("/mentor").get_data(as_text=True)
    assert mira.index("Older question") < mira.index("Newer question")
    otto = world.client(world.otto).get("/mentor").get_data(as_text=True)
    assert "Older question" in otto and "Newer question" not in otto
    # Other mentors cannot see drafts, so any-mentor requests on drafts stay with her mentors.
    world.set_visibility(Visibility.draft)
    assert "Older question" not in world.client(world.otto).get("/mentor").get_data(as_text=True)


def test_any_mentor_may_answer_an_any_mentor_request(world) -> None:
    update = _ask(world, any_mentor="y")
    comment(world, world.client(world.otto), "Happy to help", update_id=update.id)
    assert _request(world, update).answered_by_id == world.otto.id


def test_asking_twice_and_asking_on_others_updates_are_refused(world) -> None:
    update = _ask(world)
    path = f"{world.url}/updates/{update.id}/feedback"
    assert post(world.client(world.maya), path).status_code == 409
    assert post(world.client(world.pete), path).status_code == 403


def test_ask_on_an_existing_update(world) -> None:
    maya = world.client(world.maya)
    post(maya, f"{world.url}/updates", {"body": "Plain update"})
    world.session.expire_all()
    update = world.session.exec(select(Update)).one()
    assert post(maya, f"{world.url}/updates/{update.id}/feedback").status_code == 303
    assert _request(world, update).any_mentor is False


def test_unanswered_for_seven_days_is_flagged_once_by_the_job(world, app) -> None:
    update = _ask(world)
    now = utcnow()
    assert scheduler.jobs.flag_stale_feedback(app, now=now + timedelta(days=6)) == 0
    assert scheduler.jobs.flag_stale_feedback(app, now=now + timedelta(days=7, minutes=1)) == 1
    assert _request(world, update).flagged_at is not None
    [admin_note] = world.notifications(world.ada)
    assert admin_note.kind == "feedback_flagged" and "@maya" in admin_note.title
    [learner_note] = world.notifications(world.maya)
    assert learner_note.kind == "feedback_waiting"
    # A second run (or a second scheduler) changes nothing.
    assert scheduler.jobs.flag_stale_feedback(app, now=now + timedelta(days=8)) == 0
    assert len(world.notifications(world.ada)) == 1
    page = world.client(world.ada).get("/admin/reports").get_data(as_text=True)
    assert "Feedback requests waiting too long" in page and "by @maya" in page


def test_after_the_wait_the_learner_can_ask_any_mentor(world) -> None:
    update = _ask(world)
    path = f"{world.url}/updates/{update.id}/feedback/any-mentor"
    maya = world.client(world.maya)
    early = post(maya, path)
    assert early.status_code == 409 and "waited 7 days" in early.get_data(as_text=True)
    _age(world, update, 8)
    assert "ask any mentor" in maya.get(world.url).get_data(as_text=True)
    assert post(world.client(world.pete), path).status_code == 403
    assert post(maya, path).status_code == 303
    assert _request(world, update).any_mentor is True
    otto = world.client(world.otto).get("/mentor").get_data(as_text=True)
    assert "Is my eval split right?" in otto
    assert post(maya, path).status_code == 409


def test_only_the_first_answer_counts(world, app) -> None:
    """Two mentors answering at once: the conditional UPDATE lets one win."""
    from sqlmodel import Session

    from portfolio.discussion import feedback
    from portfolio.models import Project, User

    update = _ask(world, any_mentor="y")
    engine = app.extensions["engine"]
    with app.app_context(), Session(engine) as one, Session(engine) as two:
        stale = feedback.request_for(two, update.id)  # the second mentor's view: still open
        assert stale.answered_at is None
        first = feedback.answer_if_mentor(
            one,
            update_id=update.id,
            project=one.get(Project, world.project.id),
            commenter=one.get(User, world.mira.id),
            now=utcnow(),
        )
        one.commit()
        second = feedback.answer_if_mentor(
            two,
            update_id=update.id,
            project=two.get(Project, world.project.id),
            commenter=two.get(User, world.otto.id),
            now=utcnow(),
        )
        two.commit()
    assert first is not None and second is None
    assert _request(world, update).answered_by_id == world.mira.id
