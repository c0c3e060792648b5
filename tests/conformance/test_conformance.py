"""The demo site as third-party tools read it: the Nu HTML checker, feedparser,
the sitemaps.org schema, social-card scrapers and robots.txt readers.

One demo load, then a walk of every page reachable from the start pages as
anonymous, learner, mentor and admin (crawl.py). All HTML goes to one run of
the Nu HTML checker (vnu-jar from package.json, on the machine's Java); any
error fails, listed as "[role] URL / line: message". The same walk's feeds,
the sitemap and the anonymous pages' cards are checked alongside.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import feedparser
import lxml.etree
import lxml.html
import pytest
from sqlmodel import Session, select

from portfolio.models import Project, Season, User, Visibility, utcnow

from . import crawl

DEMO_PASSWORD = "seasons-demo-portfolio"  # content/demo/people.toml
ROLES = {
    "learner": "maya@seasons-demo.example.com",
    "mentor": "daniel@seasons-demo.example.com",
    "admin": "admin@seasons-demo.example.com",
}
# Links lead everywhere else; the sitemap adds the profiles, a made-up path the 404 page;
# a search with results and a demo tag page (content/demo/projects.toml) are checked too.
STARTS = [
    "/",
    "/sitemap.xml",
    "/api/v1/docs",
    "/u/nobody-goes-by-this-name",
    "/search?q=tickets",
    "/tags/nlp",
]
SIGNED_IN_STARTS = [*STARTS, "/dashboard", "/notifications", "/invitations", "/settings/profile"]
SITEMAP_XSD = Path(__file__).with_name("sitemap.xsd")
CARD_PROPERTIES = ("og:title", "og:description", "og:image", "og:image:alt", "og:site_name")
CARD_NAMES = ("twitter:card", "twitter:image")
SIGNED_IN_PATHS = [
    "/dashboard",
    "/notifications",
    "/mentor",
    "/organiser",
    "/settings/profile",
    "/admin/users",
    "/projects/new",
    "/invitations",
]


def _tools() -> str:
    """The java binary, with vnu.jar installed; skip (fail in CI) without them."""
    java = crawl.java_or_none()
    missing = []
    if java is None:
        missing.append("java (scripts/system-deps.sh installs it)")
    if not crawl.VNU_JAR.exists():
        missing.append("vnu.jar (run `npm ci --ignore-scripts`, as `make test` does)")
    if missing:
        message = "missing: " + ", ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return java


def _sign_in(app, origin: str, email: str):
    client = app.test_client()
    page = client.get("/login", base_url=origin)
    token = lxml.html.fromstring(page.data).xpath("//input[@name='csrf_token']/@value")[0]
    response = client.post(
        "/login",
        base_url=origin,
        data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302, f"{email} could not sign in"
    return client


@pytest.fixture()
def demo_walks(app, tmp_path):
    """The demo, loaded once, walked as each role."""
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    origin = app.config["BASE_URL"]
    # Listings the demo's pages link to only once they overflow a page.
    with Session(app.extensions["engine"]) as session:
        owner, slug = session.exec(
            select(User.handle, Project.slug)
            .join(Project, Project.owner_id == User.id)
            .where(Project.visibility == Visibility.public)
            .order_by(Project.id)
        ).first()
        # Ended seasons: their page is demo day (showcase, pins for the admin, feed link).
        today = utcnow().date()
        ended = session.exec(select(Season.slug).where(Season.ends_on < today)).all()
    listings = [f"/u/{owner}/{slug}/updates", f"/u/{owner}/{slug}/discussion"]
    listings += [f"/seasons/{season_slug}" for season_slug in ended]
    walks = [crawl.walk(app.test_client(), "anonymous", origin, [*STARTS, *listings])]
    for role, email in ROLES.items():
        client = _sign_in(app, origin, email)
        walks.append(crawl.walk(client, role, origin, [*SIGNED_IN_STARTS, *listings]))
    return walks


# The demo load imports its offline runs through wandb: minutes on a busy machine.
@pytest.mark.timeout(1200)
def test_demo_pages_feeds_sitemap_and_cards_conform(app, demo_walks, tmp_path, subtests) -> None:
    """Every page of the demo, for every role, is valid HTML; feeds, sitemap and cards parse."""
    java = _tools()
    walks = demo_walks
    for w in walks:
        print(f"{w.role}: {len(w.html())} HTML pages: {' '.join(p.url for p in w.html())}")
        assert len(w.html()) >= 8, f"the {w.role} walk found too few pages"
    with subtests.test("no server errors"):
        errors = [e for w in walks for e in w.server_errors]
        assert not errors, "\n".join(errors)
    with subtests.test("HTML (Nu checker)"):
        print("checker:", crawl.vnu_version(java))
        pages = [p for w in walks for p in w.html()]
        messages = crawl.check_html(java, pages, tmp_path / "vnu")
        assert not messages, crawl.format_messages(messages)
    with subtests.test("feeds"):
        _check_feeds(app, walks[0])
    with subtests.test("sitemap"):
        _check_sitemap(app, walks[0])
    with subtests.test("cards"):
        _check_cards(app, walks[0])


def _check_feeds(app, anonymous: crawl.Walk) -> None:
    """Every feed the anonymous walk met parses cleanly, entries complete, and revalidates."""
    feeds = anonymous.of_type("application/atom+xml")
    assert feeds, "the walk found no Atom feed"
    problems = []
    client = app.test_client()
    print("feedparser", feedparser.__version__, "on", [p.url for p in feeds])
    for page in feeds:
        parsed = feedparser.parse(page.body)
        if parsed.bozo:
            problems.append(f"{page.url}: not well-formed: {parsed.bozo_exception}")
        if not parsed.entries:
            problems.append(f"{page.url}: no entries")
        for entry in parsed.entries:
            missing = [k for k in ("id", "title", "updated", "author", "link") if not entry.get(k)]
            if missing:
                problems.append(f"{page.url}: entry {entry.get('id')!r} lacks {', '.join(missing)}")
        first = client.get(page.url, base_url=app.config["BASE_URL"])
        again = client.get(
            page.url,
            base_url=app.config["BASE_URL"],
            headers={"If-None-Match": first.headers.get("ETag", "none")},
        )
        since = client.get(
            page.url,
            base_url=app.config["BASE_URL"],
            headers={"If-Modified-Since": first.headers.get("Last-Modified", "none")},
        )
        if (again.status_code, since.status_code) != (304, 304):
            problems.append(
                f"{page.url}: conditional requests answered {again.status_code} (If-None-Match) "
                f"and {since.status_code} (If-Modified-Since), not 304"
            )
    assert not problems, "\n".join(problems)


def _check_sitemap(app, anonymous: crawl.Walk) -> None:
    """The sitemap is valid against the sitemaps.org schema and lists pages that answer."""
    (sitemap,) = [p for p in anonymous.pages if p.url == "/sitemap.xml"]
    schema = lxml.etree.XMLSchema(lxml.etree.parse(str(SITEMAP_XSD)))
    doc = lxml.etree.fromstring(sitemap.body)
    assert schema.validate(doc), str(schema.error_log)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = doc.xpath("//s:loc/text()", namespaces=ns)
    assert locs, "the demo's sitemap lists nothing"
    client = app.test_client()
    for loc in locs:
        response = client.get(urlsplit(loc).path, base_url=app.config["BASE_URL"])
        assert response.status_code == 200, (
            f"{loc} is in the sitemap but answers {response.status_code}"
        )


def _check_cards(app, anonymous: crawl.Walk) -> None:
    """Each public page carries a complete card whose image answers with a PNG."""
    problems = []
    images: dict[str, str] = {}
    for page in anonymous.html():
        doc = lxml.html.fromstring(page.body)
        props = {m.get("property"): m.get("content") for m in doc.iter("meta") if m.get("property")}
        names = {m.get("name"): m.get("content") for m in doc.iter("meta") if m.get("name")}
        missing = [k for k in CARD_PROPERTIES if not (props.get(k) or "").strip()]
        missing += [k for k in CARD_NAMES if not (names.get(k) or "").strip()]
        if missing:
            problems.append(f"[anonymous] {page.url}: no {', '.join(missing)}")
            continue
        if names["twitter:image"] != props["og:image"]:
            problems.append(f"[anonymous] {page.url}: twitter:image differs from og:image")
        images.setdefault(props["og:image"], page.url)
    client = app.test_client()
    for image, where in images.items():
        if not image.startswith(app.config["BASE_URL"] + "/"):
            problems.append(f"{where}: og:image {image} is not an absolute URL of this site")
            continue
        response = client.get(urlsplit(image).path, base_url=app.config["BASE_URL"])
        if response.status_code != 200 or response.mimetype != "image/png":
            problems.append(f"{where}: og:image {image} answers {response.status_code}")
    assert not problems, "\n".join(problems)
    profiles = [p for p in anonymous.html() if p.url.count("/") == 2 and p.url.startswith("/u/")]
    assert profiles, "the walk reached no profile"
    assert any("/og.png" in u for u in images), "no page previews with its own chart"


def test_robots_txt_keeps_crawlers_off_signed_in_pages(client) -> None:
    """robots.txt: public pages allowed, signed-in and editing pages disallowed."""
    text = client.get("/robots.txt").get_data(as_text=True)
    robots = RobotFileParser()
    robots.parse(text.splitlines())
    assert robots.can_fetch("*", "/u/maya-okafor")
    assert robots.can_fetch("*", "/u/maya-okafor/house-prices")
    for path in SIGNED_IN_PATHS:
        assert not robots.can_fetch("*", path), path
    # Per-project editing pages use RFC 9309 wildcards, which urllib.robotparser ignores.
    for pattern in ("/u/*/edit", "/u/*/write-up", "/u/*/runs", "/u/*/milestones/"):
        assert f"Disallow: {pattern}" in text.splitlines(), pattern
