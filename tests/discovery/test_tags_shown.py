"""Project tags wherever a project is shown: its page (cached per version), the static
export, the sitemap, the personal-data download; search result pages stay unindexed."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from portfolio.discovery import tags
from portfolio.models import Project, Visibility
from portfolio.public.export import export_site
from tests.conftest import csrf_token

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _project(session, make_project, owner, title: str, visibility: Visibility, labels: str):
    project = make_project(owner, title=title, allow_second=True)
    project.visibility = visibility
    session.add(project)
    tags.set_tags(session, project, tags.parse(labels))
    session.commit()
    return project


def _post_tags(client, project: Project, value: str):
    edit = f"/u/maya/{project.slug}/edit"
    return client.post(
        f"/u/maya/{project.slug}/tags",
        data={"tags-tags": value, "csrf_token": csrf_token(client, edit)},
    )


def test_public_page_links_escaped_tags_and_its_cache_follows_an_edit(
    app, session, make_user, make_project, login_as
):
    maya = make_user("maya")
    project = _project(
        session, make_project, maya, "Tagged", Visibility.public, "NLP, <b>bold</b> & co"
    )
    owner = login_as(maya)
    visitor = app.test_client()
    url = f"/u/maya/{project.slug}"
    first = visitor.get(url)
    html = first.get_data(as_text=True)
    assert first.status_code == 200
    assert '<a rel="tag" href="/tags/nlp">NLP</a>' in html
    assert '<a rel="tag" href="/tags/b-bold-b-co">&lt;b&gt;bold&lt;/b&gt; &amp; co</a>' in html
    assert "<b>bold</b>" not in html
    etag = first.headers["ETag"]
    assert visitor.get(url, headers={"If-None-Match": etag}).status_code == 304
    # An edit of the tags makes a new version: the cached copy and the ETag are stale.
    assert _post_tags(owner, project, "Vision").status_code == 302
    after = visitor.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200
    html = after.get_data(as_text=True)
    assert '<a rel="tag" href="/tags/vision">Vision</a>' in html and "/tags/nlp" not in html
    assert visitor.get(url).get_data(as_text=True) == html  # and the cache serves the new page


def test_unlisted_shows_tags_as_text_and_a_draft_is_not_found(
    app, session, make_user, make_project, login_as
):
    """Tag pages list public projects only, so other pages do not link to them."""
    maya = make_user("maya")
    unlisted = _project(session, make_project, maya, "Quiet", Visibility.unlisted, "Hidden gem")
    draft = _project(session, make_project, maya, "Unborn", Visibility.draft, "Secret plans")
    visitor = app.test_client()
    html = visitor.get(f"/u/maya/{unlisted.slug}").get_data(as_text=True)
    assert "<span>Hidden gem</span>" in html and "/tags/" not in html.split("<main", 1)[1]
    assert visitor.get(f"/u/maya/{draft.slug}").status_code == 404
    team = login_as(maya).get(f"/u/maya/{draft.slug}").get_data(as_text=True)
    assert "<span>Secret plans</span>" in team and 'href="/tags/secret-plans"' not in team


def test_export_shows_tags_as_text(app, session, published, tmp_path):
    maya, project = published
    tags.set_tags(session, session.get(Project, project.id), tags.parse("NLP, A & B"))
    session.commit()
    live = app.test_client().get(f"/u/maya/{project.slug}").get_data(as_text=True)
    assert 'href="/tags/nlp"' in live
    export_site(app, tmp_path / "site", "maya")
    html = (tmp_path / "site" / project.slug / "index.html").read_text()
    assert "<span>NLP</span>" in html and "<span>A &amp; B</span>" in html
    assert "/tags/" not in html


def test_sitemap_lists_tag_pages_with_a_public_project_and_not_search(
    app, session, make_user, make_project
):
    maya = make_user("maya")
    _project(session, make_project, maya, "Open", Visibility.public, "NLP, Time series")
    _project(session, make_project, maya, "Quiet", Visibility.unlisted, "Hidden gem, NLP")
    _project(session, make_project, maya, "Unborn", Visibility.draft, "Secret plans")
    client = app.test_client()
    root = ET.fromstring(client.get("/sitemap.xml").data)
    locs = [e.text or "" for e in root.iter(f"{SITEMAP_NS}loc")]
    tag_paths = sorted(loc.split(app.config["BASE_URL"], 1)[1] for loc in locs if "/tags/" in loc)
    assert tag_paths == ["/tags/nlp", "/tags/time-series"]
    assert not [loc for loc in locs if "/search" in loc]
    for path in tag_paths:
        assert client.get(path).status_code == 200


def test_search_results_are_noindex_the_form_and_tag_pages_are_not(
    app, session, make_user, make_project
):
    maya = make_user("maya")
    _project(session, make_project, maya, "Open", Visibility.public, "NLP")
    client = app.test_client()
    noindex = '<meta name="robots" content="noindex">'
    assert noindex in client.get("/search?q=open").get_data(as_text=True)
    assert noindex in client.get("/search?q=nothing-matches-this").get_data(as_text=True)
    assert noindex not in client.get("/search").get_data(as_text=True)
    assert noindex not in client.get("/tags/nlp").get_data(as_text=True)


def test_personal_data_has_the_tags_of_the_users_projects_only(
    app, session, make_user, make_project, login_as
):
    maya = make_user("maya")
    theo = make_user("theo")
    mine = _project(session, make_project, maya, "Mine", Visibility.draft, "NLP, Vision")
    _project(session, make_project, theo, "Theirs", Visibility.public, "Birds")
    data = login_as(maya).get("/settings/data.json").get_json()
    assert [(t["project_id"], t["slug"], t["label"]) for t in data["project_tags"]] == [
        (mine.id, "nlp", "NLP"),
        (mine.id, "vision", "Vision"),
    ]
