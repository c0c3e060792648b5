"""Moderation: hiding, reports, admin removal, suspension, new-account caps, rate limits."""

from __future__ import annotations

from sqlmodel import select

from portfolio.models import CommentReport

from .conftest import comment, last_comment, post


def test_hidden_comment_disappears_for_others_but_not_for_admins(world) -> None:
    """The issue's "done when": a hidden comment disappears for others."""
    comment(world, world.client(world.pete), "Rude remark")
    c = last_comment(world)
    assert post(world.client(world.maya), f"{world.url}/comments/{c.id}/hide").status_code == 303
    assert world.refresh(c).hidden_by_id == world.maya.id
    for viewer in (None, world.pete, world.sam):
        html = world.client(viewer).get(world.url).get_data(as_text=True)
        assert "Hidden by a moderator." in html and "Rude remark" not in html
    admin = world.client(world.ada).get(world.url).get_data(as_text=True)
    assert "Rude remark" in admin and "only admins see the text" in admin
    # Hidden comments cannot be answered or edited.
    assert comment(world, world.client(world.sam), "Re", parent_id=c.id).status_code in (403, 409)
    assert (
        post(
            world.client(world.pete), f"{world.url}/comments/{c.id}/edit", {"body": "x"}
        ).status_code
        == 409
    )


def test_who_may_hide(world) -> None:
    comment(world, world.client(world.pete), "Text")
    c = last_comment(world)
    hide = f"{world.url}/comments/{c.id}/hide"
    for user in (world.pete, world.sam, world.otto):
        assert post(world.client(user), hide).status_code == 403
    assert world.refresh(c).hidden_at is None
    assert post(world.client(world.mira), hide).status_code == 303  # maya's mentor
    assert post(world.client(world.ada), f"{world.url}/comments/{c.id}/unhide").status_code == 303
    assert world.refresh(c).hidden_at is None


def test_report_once_then_admin_removes(world) -> None:
    comment(world, world.client(world.pete), "Spammy link farm")
    c = last_comment(world)
    path = f"{world.url}/comments/{c.id}/report"
    sam = world.client(world.sam)
    assert sam.get(path).status_code == 200
    assert post(sam, path, {"reason": "spam"}).status_code == 303
    again = post(sam, path, {"reason": "spam!"})
    assert again.status_code == 409 and "already reported" in again.get_data(as_text=True)
    assert post(world.client(world.pete), path).status_code == 400  # your own: delete it
    assert post(world.client(world.maya), path, {"reason": "x" * 501}).status_code == 422
    assert "Reported" in sam.get(world.url).get_data(as_text=True)
    assert world.client(world.maya).get("/admin/reports").status_code == 403
    admin = world.client(world.ada)
    page = admin.get("/admin/reports").get_data(as_text=True)
    assert "Spammy link farm" in page and "@sam: spam" in page
    comment(world, world.client(world.maya), "Please stop", parent_id=c.id)
    assert post(admin, f"/admin/comments/{c.id}/remove").status_code == 303
    world.session.expire_all()
    reports = world.session.exec(select(CommentReport)).all()
    assert [r.status for r in reports] == ["removed"]
    html = world.client().get(world.url).get_data(as_text=True)
    assert "Removed by a moderator." in html and "Please stop" in html
    assert "Spammy link farm" not in html
    assert "No open reports." in admin.get("/admin/reports").get_data(as_text=True)


def test_admin_dismisses_reports(world) -> None:
    comment(world, world.client(world.pete), "Fine comment")
    c = last_comment(world)
    post(world.client(world.sam), f"{world.url}/comments/{c.id}/report")
    assert post(world.client(world.ada), f"/admin/comments/{c.id}/dismiss").status_code == 303
    world.session.expire_all()
    assert world.session.exec(select(CommentReport.status)).all() == ["dismissed"]
    assert world.refresh(c).deleted_at is None
    assert post(world.client(world.ada), "/admin/comments/999999/remove").status_code == 404


def test_suspension_ends_sessions_blocks_login_and_is_explained(world) -> None:
    pete = world.client(world.pete)
    comment(world, pete, "Before")
    admin = world.client(world.ada)
    assert post(admin, f"/admin/users/{world.pete.id}/suspend").status_code == 303
    assert world.refresh(world.pete).suspended_at is not None
    # The open session is over: posting now needs a login again, and writes nothing.
    response = comment(world, pete, "After")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert [c.body_md for c in world.comments()] == ["Before"]
    from tests.conftest import login

    again = login(world.app.test_client(), world.pete)
    assert again.status_code == 422
    assert "This account is suspended" in again.get_data(as_text=True)
    # Admins and oneself cannot be suspended; lifting works.
    assert "cannot suspend yourself" in admin.post(
        f"/admin/users/{world.ada.id}/suspend",
        data={"csrf_token": _admin_token(admin)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert post(admin, f"/admin/users/{world.pete.id}/unsuspend").status_code == 303
    assert login(world.app.test_client(), world.pete).status_code == 302


def _admin_token(client) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client, "/settings/profile")


def test_new_accounts_have_caps_mentors_do_not(world, session, make_user) -> None:
    from portfolio.models import CommentPolicy, Project, Role

    project = session.get(Project, world.project.id)
    project.comment_policy = CommentPolicy.signed_in.value
    session.add(project)
    session.commit()
    newbie = world.client(make_user("newbie"))
    links = comment(world, newbie, "see https://a.example http://b.example www.c.example")
    assert links.status_code == 422 and "at most 2 links" in links.get_data(as_text=True)
    for n in range(5):
        assert comment(world, newbie, f"Hello {n} https://ok.example").status_code == 303
    capped = comment(world, newbie, "A sixth")
    assert capped.status_code == 403 and "5 comments" in capped.get_data(as_text=True)
    assert len(world.comments()) == 5
    new_mentor = world.client(make_user("newmentor", role=Role.mentor))
    body = "a https://1.example b https://2.example c https://3.example"
    assert comment(world, new_mentor, body).status_code == 303


def test_posting_is_rate_limited_per_account(world, app) -> None:
    app.config["DISCUSSION_RATE_LIMIT"] = "2 per minute"
    pete = world.client(world.pete)
    assert comment(world, pete, "one").status_code == 303
    assert comment(world, pete, "two").status_code == 303
    third = comment(world, pete, "three")
    assert third.status_code == 429
    assert [c.body_md for c in world.comments()] == ["one", "two"]
    # Another account is not affected.
    assert comment(world, world.client(world.maya), "mine").status_code == 303


def test_a_report_racing_its_double_is_refused_cleanly(world, app) -> None:
    """Two submits that both pass the "already reported?" check: one row, one clean 409.

    The second submit's check is made to miss by committing the first
    submit's row from another connection right after the check ran, as a
    double click on two workers would.
    """
    from sqlalchemy import event
    from sqlmodel import Session

    from portfolio.discussion import moderation
    from portfolio.errors import Conflict
    from portfolio.models import Comment, User, utcnow

    comment(world, world.client(world.pete), "Spam")
    c = last_comment(world)
    engine = app.extensions["engine"]
    with Session(engine) as racer:
        target, actor = racer.get(Comment, c.id), racer.get(User, world.sam.id)
        fired = []

        @event.listens_for(racer, "do_orm_execute")
        def first_submit_lands(state):
            if not (state.is_select and not fired and "comment_reports" in str(state.statement)):
                return None
            checked = state.invoke_statement().freeze()  # the check runs and finds nothing
            fired.append(checked().first())
            with Session(engine) as other:
                other.add(CommentReport(comment_id=c.id, reporter_id=world.sam.id))
                other.commit()
            return checked()

        try:
            moderation.report(racer, comment=target, actor=actor, reason="spam", now=utcnow())
        except Conflict as exc:
            assert "already reported" in str(exc)
        else:
            raise AssertionError("the duplicate report was accepted")
        assert fired == [None]  # the check passed: the constraint caught the double
        racer.commit()  # the request goes on: its transaction is intact
    world.session.expire_all()
    rows = world.session.exec(select(CommentReport).where(CommentReport.comment_id == c.id))
    assert len(rows.all()) == 1
