"""Home page, learner profiles, feeds, sitemap and robots.txt."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from sqlmodel import select

from ..auth import service as accounts
from ..auth.deletion import PLACEHOLDER_HANDLE
from ..auth.profile import profile_links
from ..content import render_page
from ..db import get_session
from ..discovery.tags import public_tag_slugs
from ..httpcache import shared_cacheable
from ..markdown import render_markdown
from ..models import Project, User, Visibility, utcnow
from ..seasons import health, recap_lists
from . import feed as feeds
from . import service, showcase

bp = Blueprint("public", __name__)


@bp.get("/")
@shared_cacheable
def home():
    """The pitch, a few real public projects of this season, and the demo portfolio."""
    session = get_session()
    examples = showcase.showcase(session, utcnow().date())
    session.commit()  # the current season is created on first sight
    return render_template(
        "public/home.html",
        intro=render_page("home"),
        showcase=examples,
        demo=showcase.demo_learner(session),
    )


def _user_or_404(handle: str) -> User:
    user = accounts.get_user_by_handle(get_session(), handle)
    # The placeholder author of deleted people's kept comments has no page.
    if user is None or user.handle == PLACEHOLDER_HANDLE:
        abort(404)
    return user


@bp.get("/u/<handle>")
@shared_cacheable
def profile(handle: str):
    """A learner's public portfolio: bio, record, and one card per public project."""
    session = get_session()
    user = _user_or_404(handle)
    now = utcnow()
    cards = service.profile_cards(session, user, now)
    return render_template(
        "public/profile.html",
        user=user,
        bio=render_markdown(user.bio, id_prefix="bio-") if user.bio else None,
        cards=cards,
        card_chart=service.card_chart(session, cards),
        record=health.learner_record(session, user.id, now),
        links=profile_links(user),
        recaps=recap_lists.profile_recaps(session, user),
    )


@bp.get("/u/<handle>/feed.atom")
def feed(handle: str):
    """Atom feed of a learner's public projects, completed milestones and updates.

    ETag and Last-Modified let a reader poll with a conditional request and
    get a bodiless 304 while nothing changed.
    """
    user = _user_or_404(handle)
    data = feeds.profile_feed(get_session(), user)
    body = render_template("public/feed.atom", feed=data)
    response = Response(body, mimetype="application/atom+xml")
    response.set_etag(data.etag(body))
    response.last_modified = data.updated
    response.cache_control.public = True
    response.cache_control.no_cache = True
    return response.make_conditional(request)


@bp.get("/sitemap.xml")
def sitemap():
    """Public projects, the profiles and tag pages that have them; drafts and unlisted never."""
    session = get_session()
    rows = session.exec(
        select(Project, User)
        .join(User, User.id == Project.owner_id)
        .where(Project.visibility == Visibility.public)
        .order_by(Project.id)
    ).all()
    base = current_app.config["BASE_URL"]
    urls = [
        (base + url_for("public.project", handle=u.handle, slug=p.slug), p.updated_at)
        for p, u in rows
    ]
    handles = sorted({u.handle for _, u in rows})
    urls += [(base + url_for("public.profile", handle=h), None) for h in handles]
    # Tag pages that list something; /search is left out (results are not for crawling).
    urls += [(base + url_for("discovery.tag", slug=t), None) for t in public_tag_slugs(session)]
    return Response(render_template("public/sitemap.xml", urls=urls), mimetype="application/xml")


# Signed-in and private pages: plain prefixes (every robots.txt reader matches
# these) and, for the per-project pages, `*` patterns (RFC 9309; Google, Bing).
ROBOTS_DISALLOW = (
    "/admin/",
    "/settings/",
    "/dashboard",
    "/notifications",
    "/mentor",
    "/organiser",
    "/invitations",
    "/projects/new",
    "/password/",
    "/email/",
    "/unsubscribe/",
    "/calendar/",
    "/api/",
    "/u/*/edit",
    "/u/*/write-up",
    "/u/*/runs",
    "/u/*/milestones/",
    "/u/*/comments/*/edit",
    "/u/*/comments/*/report",
    "/u/*/updates/*/edit",
)


@bp.get("/robots.txt")
def robots():
    base = current_app.config["BASE_URL"]
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOW)]
    lines.append(f"Sitemap: {base}/sitemap.xml")
    return Response("\n".join(lines) + "\n", mimetype="text/plain")
