"""Home page, learner profiles, feeds, sitemap and robots.txt."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, url_for
from sqlmodel import select

from ..auth import service as accounts
from ..auth.deletion import PLACEHOLDER_HANDLE
from ..auth.profile import profile_links
from ..content import render_page
from ..db import get_session
from ..discussion import updates as discussion
from ..httpcache import shared_cacheable
from ..markdown import render_markdown
from ..models import Project, User, Visibility, utcnow
from ..seasons import health
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
        record=health.learner_record(session, user.id, now),
        links=profile_links(user),
    )


@bp.get("/u/<handle>/feed.atom")
def feed(handle: str):
    """Atom feed of a learner's public projects and completed milestones."""
    session = get_session()
    user = _user_or_404(handle)
    projects = [p for p, _ in service.public_projects(session, user)]
    owners = {p.id: session.get(User, p.owner_id) for p in projects}
    entries = [("project", p.created_at, p, None) for p in projects]
    entries += [
        ("milestone", m.done_at, p, m)
        for m, p in service.completed_milestones(session, [p.id for p in projects])
    ]
    entries += [
        ("update", u.created_at, p, u)
        for u, p in discussion.public_updates(session, [p.id for p in projects])
    ]
    entries.sort(key=lambda e: e[1], reverse=True)
    body = render_template(
        "public/feed.atom",
        user=user,
        entries=entries[:50],
        owners=owners,
        updated=max((e[1] for e in entries), default=user.created_at),
    )
    return Response(body, mimetype="application/atom+xml")


@bp.get("/sitemap.xml")
def sitemap():
    """Public projects and the profiles that have them; drafts and unlisted never."""
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
    return Response(render_template("public/sitemap.xml", urls=urls), mimetype="application/xml")


@bp.get("/robots.txt")
def robots():
    base = current_app.config["BASE_URL"]
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /settings/",
        "Disallow: /calendar/",
        "Disallow: /api/",
        f"Sitemap: {base}/sitemap.xml",
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")
