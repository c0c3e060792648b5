"""Project tags: the edit-page form, its limits, and the public tag page."""

from __future__ import annotations

import pytest
from sqlmodel import select

from portfolio.discovery.tags import parse, slugify
from portfolio.errors import DomainError
from portfolio.models import ProjectTag, Visibility
from tests.conftest import csrf_token


def test_slugify_and_parse():
    assert slugify("Time Series") == "time-series"
    assert slugify("  NLP ") == "nlp"
    assert slugify("Réseaux / GNNs") == "reseaux-gnns"
    assert parse("NLP, nlp ,  time   series,") == [("nlp", "NLP"), ("time-series", "time series")]
    for bad, message in [
        ("a,b,c,d,e,f", "at most 5 tags"),
        ("x" * 33, "at most 32 characters"),
        ("!!!", "no letters or digits"),
    ]:
        with pytest.raises(DomainError, match=message):
            parse(bad)


@pytest.fixture()
def owned(session, make_user, make_project, login_as):
    maya = make_user("maya")
    project = make_project(maya, title="Tagged work")
    project.visibility = Visibility.public
    session.add(project)
    session.commit()
    return login_as(maya), project


def _post_tags(client, project, value):
    edit = f"/u/maya/{project.slug}/edit"
    return client.post(
        f"/u/maya/{project.slug}/tags",
        data={"tags-tags": value, "csrf_token": csrf_token(client, edit)},
    )


def test_tags_form_saves_and_tag_page_lists(owned, client, session):
    client, project = owned
    edit = client.get(f"/u/maya/{project.slug}/edit")
    assert 'name="tags-tags"' in edit.get_data(as_text=True)
    response = _post_tags(client, project, "NLP, Time Series")
    assert response.status_code == 302
    slugs = session.exec(select(ProjectTag.slug).where(ProjectTag.project_id == project.id)).all()
    assert sorted(slugs) == ["nlp", "time-series"]
    assert 'value="NLP, Time Series"' in client.get(f"/u/maya/{project.slug}/edit").get_data(
        as_text=True
    )
    page = client.get("/tags/time-series")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Projects tagged “Time Series”" in html and "Tagged work" in html
    # Tags are searchable, and listed on the hit with a link to their page.
    hits = client.get("/search?q=nlp").get_data(as_text=True)
    assert "Tagged work" in hits and 'href="/tags/nlp"' in hits


@pytest.mark.parametrize(
    "value,message",
    [
        ("a, b, c, d, e, f", "Choose at most 5 tags."),
        ("x" * 40, "at most 32 characters"),
        ("<>, ok", "no letters or digits"),
        ("y" * 500, "Field cannot be longer"),
    ],
)
def test_bad_tags_change_nothing(owned, client, session, value, message):
    client, project = owned
    assert _post_tags(client, project, "keep").status_code == 302
    response = _post_tags(client, project, value)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'id="demo-day"' in html  # the whole edit page comes back, not just the tags form
    slugs = session.exec(select(ProjectTag.slug).where(ProjectTag.project_id == project.id)).all()
    assert slugs == ["keep"]


def test_tag_page_hides_drafts_and_validates_page(owned, client, session):
    client, project = owned
    _post_tags(client, project, "vision")
    assert "Tagged work" in client.get("/tags/vision").get_data(as_text=True)
    project = session.merge(project)
    project.visibility = Visibility.unlisted
    session.add(project)
    session.commit()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    response = client.get("/tags/vision")
    assert "Tagged work" not in response.get_data(as_text=True)
    assert "No public project has this tag yet." in response.get_data(as_text=True)
    assert client.get("/tags/vision?page=x").status_code == 400
    assert client.get("/tags/nothing-here?page=2").status_code == 404


def test_only_editors_may_tag(owned, client, make_user, login_as):
    _client, project = owned
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    login_as(make_user("other"))
    response = client.post(
        f"/u/maya/{project.slug}/tags",
        data={"tags-tags": "spam", "csrf_token": csrf_token(client, "/dashboard")},
    )
    assert response.status_code == 403
