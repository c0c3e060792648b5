"""Publishing: the draft banner, the visibility control, the share link and the checklist."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portfolio.auth.rules import ValidationError
from portfolio.models import Project, Role, RunLink, Visibility
from portfolio.projects import publishing
from portfolio.seasons import milestones
from portfolio.seasons.mentors import assign
from tests.conftest import csrf_token, login

NOW = datetime(2027, 1, 10, tzinfo=UTC)
URL = "/u/maya/house-prices"


@pytest.fixture()
def draft(session, make_user, make_project):
    maya = make_user("maya")
    return maya, make_project(maya)


def _fresh(session, project) -> Project:
    session.expire_all()
    return session.get(Project, project.id)


def _post(client, path: str, **data):
    data.setdefault("csrf_token", csrf_token(client, URL))
    return (
        client.post(f"{URL}/visibility", data=data) if path == URL else client.post(path, data=data)
    )


def test_set_visibility_checks_the_value_and_changes_nothing_on_error(app, session, draft):
    maya, project = draft
    with app.app_context():
        for bad in ("", "secret", "PUBLIC ", None, "drafts"):
            if bad == "PUBLIC ":
                bad = "Public"
            with pytest.raises(ValidationError, match="Choose draft, unlisted or public"):
                publishing.set_visibility(session, project, bad, actor=maya, now=NOW)
        assert _fresh(session, project).visibility == Visibility.draft
        version = _fresh(session, project).version
        project = _fresh(session, project)
        publishing.set_visibility(session, project, "public", actor=maya, now=NOW)
        session.commit()
        assert _fresh(session, project).version == version + 1
        publishing.set_visibility(session, project, "public", actor=maya, now=NOW)
        assert project.version == version + 1  # no change, no new version


def test_banner_on_every_page_of_a_draft_for_members(client, session, draft):
    """Project, edit, write-up, runs, milestone, updates and discussion pages all carry it."""
    maya, project = draft
    login(client, maya)
    first = milestones.list_for(session, project.id)[0]
    pages = [URL, f"{URL}/edit", f"{URL}/write-up", f"{URL}/runs", f"{URL}/updates"]
    pages += [f"{URL}/discussion", f"{URL}/milestones/{first.id}"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert "Draft</strong> — only your team and mentors can see this." in html, path
        assert 'value="public"' in html and "Make it unlisted" in html, path
        assert f'action="{URL}/visibility"' in html, path


def test_banner_buttons_publish_and_return_to_the_page(client, session, draft):
    maya, project = draft
    login(client, maya)
    token = csrf_token(client, f"{URL}/edit")
    response = client.post(
        f"{URL}/visibility",
        data={"visibility": "public", "next": f"{URL}/edit", "csrf_token": token},
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{URL}/edit")
    assert _fresh(session, project).visibility == Visibility.public
    html = client.get(f"{URL}/edit").get_data(as_text=True)
    assert "Your project is public" in html
    assert "draft-banner" not in html
    # An off-site `next` is ignored: back to the project page.
    response = client.post(
        f"{URL}/visibility",
        data={"visibility": "unlisted", "next": "//evil.example/", "csrf_token": token},
    )
    assert response.headers["Location"].endswith(URL)
    assert _fresh(session, project).visibility == Visibility.unlisted


def test_publish_panel_shows_the_link_to_share_after_publishing(app, client, session, draft):
    maya, project = draft
    login(client, maya)
    html = client.get(URL).get_data(as_text=True)
    assert "View public page" not in html and 'id="share-url"' not in html
    assert "0 of 3 done" in html  # the checklist, while a draft
    token = csrf_token(client, URL)
    client.post(f"{URL}/visibility", data={"visibility": "public", "csrf_token": token})
    html = client.get(URL).get_data(as_text=True)
    share = f'value="{app.config["BASE_URL"]}{URL}" readonly'
    assert share in html  # selectable without JS
    assert 'data-copy="share-url" hidden' in html  # the JS button, shown by copy-link.js
    assert f'href="{URL}?view=visitor">View public page' in html
    visitor_view = client.get(f"{URL}?view=visitor").get_data(as_text=True)
    assert "You are seeing this page as visitors do" in visitor_view
    assert "Edit project" not in visitor_view and 'id="share-url"' not in visitor_view


@pytest.mark.parametrize("value", ["secret", "", "DRAFT", "public; drop table"])
def test_visibility_outside_the_allowed_set_is_refused(client, session, draft, value):
    maya, project = draft
    login(client, maya)
    token = csrf_token(client, URL)
    response = client.post(f"{URL}/visibility", data={"visibility": value, "csrf_token": token})
    assert response.status_code == 422
    assert "Choose draft, unlisted or public." in response.get_data(as_text=True)
    assert _fresh(session, project).visibility == Visibility.draft


def test_without_csrf_nothing_changes(client, session, draft):
    maya, project = draft
    login(client, maya)
    assert client.post(f"{URL}/visibility", data={"visibility": "public"}).status_code == 400
    assert _fresh(session, project).visibility == Visibility.draft


def test_other_peoples_projects_are_404_or_403(app, session, make_user, draft):
    """A stranger gets 404 for a draft (it does not exist for them), 403 once it is public."""
    _, project = draft
    bob = app.test_client()
    login(bob, make_user("bob"))
    token = csrf_token(bob, "/dashboard")
    response = bob.post(f"{URL}/visibility", data={"visibility": "public", "csrf_token": token})
    assert response.status_code == 404
    assert _fresh(session, project).visibility == Visibility.draft
    project = _fresh(session, project)
    project.visibility = Visibility.public
    session.add(project)
    session.commit()
    response = bob.post(f"{URL}/visibility", data={"visibility": "draft", "csrf_token": token})
    assert response.status_code == 403
    assert _fresh(session, project).visibility == Visibility.public
    anonymous = app.test_client().post(f"{URL}/visibility", data={"visibility": "draft"})
    assert anonymous.status_code in (302, 400, 401)
    assert _fresh(session, project).visibility == Visibility.public


def test_mentor_sees_the_banner_without_buttons_and_may_not_publish(app, session, make_user, draft):
    maya, project = draft
    make_user("dan", role=Role.mentor)
    season = session.get(type(project).__mro__[0], project.id)
    from portfolio.models import Season

    assign(
        session,
        mentor_handle="dan",
        learner_handle="maya",
        season=session.get(Season, season.season_id),
    )
    session.commit()
    from sqlmodel import select

    from portfolio.models import User

    mentor = app.test_client()
    login(mentor, session.exec(select(User).where(User.handle == "dan")).one())
    html = mentor.get(URL).get_data(as_text=True)
    assert "only the team and its mentors can see this" in html
    assert "Make it public" not in html
    token = csrf_token(mentor, URL)
    response = mentor.post(f"{URL}/visibility", data={"visibility": "public", "csrf_token": token})
    assert response.status_code == 403
    assert _fresh(session, project).visibility == Visibility.draft


def test_unconfirmed_address_cannot_publish_when_required(app, client, session, draft):
    maya, project = draft
    app.config["REQUIRE_VERIFIED_EMAIL"] = True
    login(client, maya)
    token = csrf_token(client, URL)
    response = client.post(f"{URL}/visibility", data={"visibility": "public", "csrf_token": token})
    assert response.status_code == 403
    assert "Confirm your email address" in response.get_data(as_text=True)
    assert _fresh(session, project).visibility == Visibility.draft


def test_dashboard_shows_the_first_publish_checklist(client, session, draft, make_run):
    maya, project = draft
    login(client, maya)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "0 of 3 done" in html
    assert f'href="{URL}/write-up">Write up what you did' in html
    assert f'href="{URL}/runs">Link a run' in html
    project = _fresh(session, project)
    project.body_md = "## Results\n\nIt works."
    project.headline_metric = "val/acc"
    session.add(project)
    session.commit()
    make_run(project, name="baseline", summary={"val/acc": 0.8}, config={}, series={})
    html = client.get("/dashboard").get_data(as_text=True)
    assert "3 of 3 done" in html
    # A hidden run does not count: visitors would not see it.
    with client.application.app_context():
        [link] = session.exec(__import__("sqlmodel").select(RunLink)).all()
        link.hidden = True
        session.add(link)
        session.commit()
        lists = publishing.checklists(session, [_fresh(session, project)])
    assert lists[project.id].done_count == 2 and not lists[project.id].complete
    # Once published, the dashboard links to the public view instead.
    token = csrf_token(client, URL)
    client.post(f"{URL}/visibility", data={"visibility": "public", "csrf_token": token})
    html = client.get("/dashboard").get_data(as_text=True)
    assert "of 3 done" not in html and f'href="{URL}?view=visitor">View public page' in html


def test_signing_in_lands_on_the_dashboard_or_a_safe_next(app, make_user):
    maya = make_user("maya")
    client = app.test_client()
    response = login(client, maya)
    assert response.headers["Location"].endswith("/dashboard")
    other = app.test_client()
    token = csrf_token(other, "/login")
    for target, expected in [(URL, URL), ("https://evil.example/", "/dashboard")]:
        c = app.test_client()
        token = csrf_token(c, "/login")
        response = c.post(
            "/login",
            query_string={"next": target},
            data={
                "email": maya.email,
                "password": "correct horse battery staple",
                "csrf_token": token,
            },
        )
        assert response.headers["Location"].endswith(expected), target
