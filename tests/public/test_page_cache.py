"""The warm path of the public project page: served from the cache, never stale."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import update

from portfolio import httpcache
from portfolio.models import Project, Visibility
from portfolio.public import project_views
from tests.conftest import csrf_token, login


def _warm(client: FlaskClient, base: str) -> str:
    """Fill the cache for the page and its first chart; return the page's ETag."""
    for _ in range(2):
        page = client.get(base)
        assert page.status_code == 200
        assert client.get(base + "/charts/0.svg").status_code == 200
    return page.headers["ETag"]


def _edit(client: FlaskClient, base: str, *, title: str, slug: str, visibility: str):
    return client.post(
        base + "/edit",
        data={
            "title": title,
            "slug": slug,
            "summary": "",
            "problem_md": "",
            "repo_url": "",
            "visibility": visibility,
            "csrf_token": csrf_token(client, base + "/edit"),
        },
    )


def test_warm_page_is_served_without_loading_the_project(client, monkeypatch, published):
    """A warm anonymous request answers from the cache with every header, no ORM load."""
    _, project = published
    base = f"/u/maya/{project.slug}"
    etag = _warm(client, base)
    cold = client.get(base)

    def must_not_load(*_args, **_kwargs):
        raise AssertionError("the warm path loaded the project")

    monkeypatch.setattr(project_views, "load_project", must_not_load)
    page = client.get(base)
    assert page.status_code == 200 and page.data == cold.data
    assert page.headers["ETag"] == etag and page.headers["Last-Modified"]
    assert page.headers["Cache-Control"] == httpcache.PUBLIC
    assert "Cookie" in page.headers["Vary"]
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert client.get(base, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(base + "/charts/0.svg").mimetype == "image/svg+xml"


def test_switch_to_draft_stops_the_cached_page_at_once(app, client, published):
    """A public project made a draft is 404 to strangers on the very next request."""
    maya, project = published
    base = f"/u/maya/{project.slug}"
    etag = _warm(client, base)
    owner = app.test_client()
    login(owner, maya)
    edited = _edit(owner, base, title=project.title, slug=project.slug, visibility="draft")
    assert edited.status_code == 302
    for path in (base, base + "/charts/0.svg"):
        assert client.get(path).status_code == 404, path
    # Not even a 304 for a visitor who still holds the ETag of the public page.
    assert client.get(base, headers={"If-None-Match": etag}).status_code == 404
    assert owner.get(base).status_code == 200


def test_visibility_is_read_on_every_request(client, session, published):
    """A draft is never served from the cache, even when its version did not change."""
    _, project = published
    base = f"/u/maya/{project.slug}"
    _warm(client, base)
    session.execute(
        update(Project).where(Project.id == project.id).values(visibility=Visibility.draft)
    )
    session.commit()
    assert client.get(base).status_code == 404
    assert client.get(base + "/charts/0.svg").status_code == 404


def test_version_bump_shows_on_the_next_request(client, session, published):
    """Any change that bumps the version replaces the cached page at once."""
    _, project = published
    base = f"/u/maya/{project.slug}"
    etag = _warm(client, base)
    session.execute(
        update(Project)
        .where(Project.id == project.id)
        .values(title="Renamed classifier", version=Project.version + 1)
    )
    session.commit()
    page = client.get(base, headers={"If-None-Match": etag})
    assert page.status_code == 200 and page.headers["ETag"] != etag
    assert "Renamed classifier" in page.get_data(as_text=True)


def test_renamed_slug_redirects_after_the_page_was_cached(app, client, published):
    """The old address of a cached page redirects (301) to the new one."""
    maya, project = published
    base = f"/u/maya/{project.slug}"
    _warm(client, base)
    owner = app.test_client()
    login(owner, maya)
    edited = _edit(owner, base, title="Digit classifier", slug="digits", visibility="public")
    assert edited.status_code == 302
    old = client.get(base)
    assert old.status_code == 301 and old.headers["Location"] == "/u/maya/digits"
    assert client.get("/u/maya/digits").status_code == 200


def test_members_and_query_strings_bypass_the_cache(app, client, published):
    """A logged-in member gets a fresh page with edit controls, not the cached one."""
    maya, project = published
    base = f"/u/maya/{project.slug}"
    _warm(client, base)
    assert "Edit project" not in client.get(base).get_data(as_text=True)
    owner = app.test_client()
    login(owner, maya)
    assert "Edit project" in owner.get(base).get_data(as_text=True)
    full = client.get(base + "?config=all")
    assert '<th scope="col" class="hp">seed</th>' in full.get_data(as_text=True)
    assert "ETag" not in full.headers
