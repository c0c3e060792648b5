"""Feeds readers can poll cheaply, social cards on every public page, markup details."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import feedparser
from PIL import Image

from portfolio.discussion.updates import post_update
from portfolio.models import User, utcnow
from portfolio.timeutil import iso_instant


def _meta(html: str) -> dict[str, str]:
    found = re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)"', html)
    return dict(found)


def _post(app, session, project, body: str) -> None:
    with app.app_context():
        author = session.get(User, project.owner_id)
        post_update(session, project=project, author=author, body=body, now=utcnow())
        session.commit()


def test_feed_answers_conditional_requests_and_changes_its_etag(app, client, session, published):
    """Same feed: 304 on If-None-Match or If-Modified-Since; a new update: a new ETag, 200."""
    _, project = published
    first = client.get("/u/maya/feed.atom")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get("/u/maya/feed.atom", headers={"If-None-Match": etag}).status_code == 304
    assert (
        client.get("/u/maya/feed.atom", headers={"If-Modified-Since": modified}).status_code == 304
    )
    _post(app, session, project, "New **result**")
    after = client.get("/u/maya/feed.atom", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag


def test_feed_entries_carry_sanitized_html_and_their_author(app, client, session, published):
    """Markdown becomes HTML through render_markdown (no script left); entries have authors."""
    maya, project = published
    _post(app, session, project, "**4.3 % MAPE** <script>alert(1)</script>")
    parsed = feedparser.parse(client.get("/u/maya/feed.atom").data)
    assert not parsed.bozo
    [update] = [e for e in parsed.entries if "#update-" in e.id]
    [content] = update.content
    assert content.type == "text/html"
    assert "<strong>4.3 % MAPE</strong>" in content.value and "<script" not in content.value
    # The summary is the same words as plain text: no markdown asterisks.
    assert update.summary.startswith("4.3 % MAPE") and "**" not in update.summary
    assert all(e.get("author") for e in parsed.entries)
    assert update.author == maya.display_name


def test_profile_card_previews_the_headline_chart(client, published):
    """A profile's card: title, description, image (the headline chart's PNG) and its alt."""
    _, project = published
    meta = _meta(client.get("/u/maya").get_data(as_text=True))
    assert meta["og:type"] == "profile" and meta["og:site_name"] == "Seasons"
    assert meta["og:description"] and meta["og:image:alt"]
    assert meta["og:image"].endswith(f"/u/maya/{project.slug}/og.png")
    assert meta["twitter:image"] == meta["og:image"] and meta["twitter:card"]
    image = client.get(f"/u/maya/{project.slug}/og.png")
    assert image.status_code == 200 and image.mimetype == "image/png"


def test_pages_without_a_chart_use_the_site_card(client):
    """The home page's card image is the site's own 1200×630 PNG, revalidated by ETag."""
    meta = _meta(client.get("/").get_data(as_text=True))
    assert meta["og:image"].endswith("/card.png") and meta["og:image:alt"]
    card = client.get("/card.png")
    assert card.mimetype == "image/png"
    assert Image.open(io.BytesIO(card.data)).size == (1200, 630)
    again = client.get("/card.png", headers={"If-None-Match": card.headers["ETag"]})
    assert again.status_code == 304


def test_csrf_fields_carry_no_id_and_plain_checkboxes_no_description(client):
    """Several forms on a page cannot share id="csrf_token"; no aria-describedby="None"."""
    html = client.get("/login").get_data(as_text=True)
    assert 'name="csrf_token"' in html and 'id="csrf_token"' not in html
    assert 'aria-describedby="None"' not in html
    assert re.search(r'<input id="remember" name="remember" type="checkbox"', html)


def test_time_datetime_has_at_most_milliseconds():
    """HTML allows 1-3 digits of fraction; Python's isoformat writes 6."""
    instant = datetime(2027, 3, 14, 9, 30, 0, 250_123, tzinfo=UTC)
    assert iso_instant(instant) == "2027-03-14T09:30:00.250Z"
    assert iso_instant(instant.replace(microsecond=0)) == "2027-03-14T09:30:00Z"
    assert iso_instant(None) == ""
