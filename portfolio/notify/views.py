"""Notification pages: the bell, the list, settings, calendar feed and unsubscribe."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from ..db import get_session
from ..extensions import csrf
from ..forms import ActionForm
from ..models import DeliveryMode, User, utcnow
from . import feeds, inbox, service, unsubscribe
from .forms import CalendarForm, preferences_form

bp = Blueprint("notify", __name__)

PAGE_SIZE = 50


@bp.app_context_processor
def _bell() -> dict[str, Any]:
    """`unread_notifications()` for the nav bell: queried only when a page calls it."""

    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        return inbox.unread_count(get_session(), current_user.id)

    return {"unread_notifications": unread_notifications, "unread_cap": inbox.UNREAD_CAP}


@bp.get("/notifications")
@login_required
def index():
    before = request.args.get("before")
    if before is not None and not (before.isdigit() and len(before) < 12):
        abort(400, "The “before” parameter must be a notification number.")
    items = inbox.list_for(
        get_session(),
        current_user.id,
        before_id=int(before) if before else None,
        limit=PAGE_SIZE + 1,
    )
    more = len(items) > PAGE_SIZE
    items = items[:PAGE_SIZE]
    now = utcnow()
    bodies = {n.id: inbox.body_of(n, current_user.timezone, now) for n in items}
    return render_template(
        "notify/list.html", items=items, bodies=bodies, more=more, form=ActionForm()
    )


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    if not ActionForm().validate_on_submit():
        abort(400, "This form expired. Reload the page and try again.")
    session = get_session()
    inbox.mark_read(session, current_user.id, notification_id, now=utcnow())
    session.commit()
    return redirect(url_for("notify.index"), 303)


@bp.post("/notifications/read-all")
@login_required
def mark_all_read():
    if not ActionForm().validate_on_submit():
        abort(400, "This form expired. Reload the page and try again.")
    session = get_session()
    count = inbox.mark_all_read(session, current_user.id, now=utcnow())
    session.commit()
    flash(f"Marked {count} notification{'s' if count != 1 else ''} read.", "success")
    return redirect(url_for("notify.index"), 303)


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required
def settings():
    session = get_session()
    categories = list(service.categories_for(current_user))
    current = {k: v.value for k, v in service.modes_for(session, current_user.id).items()}
    form = preferences_form(categories, current)
    if form.validate_on_submit():
        for category in categories:
            mode = DeliveryMode(getattr(form, category.name).data)
            if current[category.name] != mode:
                service.set_mode(session, current_user.id, category.name, mode)
        session.commit()
        flash("Your notification settings are saved.", "success")
        return redirect(url_for("notify.settings"), 303)
    feed = feeds.get_feed(session, current_user.id)
    status = 422 if form.errors else 200
    return render_template(
        "settings/notifications.html",
        form=form,
        categories=categories,
        feed_url=feeds.feed_url(feed) if feed else None,
        calendar_form=CalendarForm(formdata=None),
    ), status


@bp.post("/settings/notifications/calendar")
@login_required
def calendar_settings():
    form = CalendarForm()
    if not form.validate_on_submit():
        abort(400, "Choose to create a new calendar link or to turn it off.")
    session = get_session()
    if form.action.data == "regenerate":
        feeds.regenerate(session, current_user.id, now=utcnow())
        flash("Your calendar has a new link; the old one no longer works.", "success")
    else:
        feeds.revoke(session, current_user.id)
        flash("Your calendar link is turned off.", "info")
    session.commit()
    return redirect(url_for("notify.settings"), 303)


@bp.get("/calendar/<token>.ics")
def calendar_feed(token: str):
    session = get_session()
    user = feeds.user_for_token(session, token)
    if user is None:
        abort(404)
    body, etag = feeds.render_feed(session, user, now=utcnow())
    response = make_response(body)
    response.mimetype = "text/calendar"
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="seasons.ics"'
    # The URL is a secret: keep it out of shared caches and referrers.
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.set_etag(etag)
    return response.make_conditional(request)


def _subscription_or_404(token: str) -> tuple[unsubscribe.Subscription, User]:
    sub = unsubscribe.read_token(token)
    user = get_session().get(User, sub.user_id) if sub else None
    if sub is None or user is None or sub.category not in service.CATEGORIES:
        abort(404, "This unsubscribe link is not valid. Change your emails in your settings.")
    return sub, user


@bp.get("/unsubscribe/<token>")
def unsubscribe_confirm(token: str):
    sub, user = _subscription_or_404(token)
    return render_template(
        "notify/unsubscribe.html",
        category=service.CATEGORIES[sub.category],
        email=user.email,
        done=False,
    )


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # RFC 8058: mail providers POST "List-Unsubscribe=One-Click" without a form token
def unsubscribe_post(token: str):
    sub, user = _subscription_or_404(token)
    session = get_session()
    if service.mode_for(session, user.id, sub.category) == DeliveryMode.email:
        service.set_mode(session, user.id, sub.category, DeliveryMode.in_app)
        session.commit()
    return render_template(
        "notify/unsubscribe.html",
        category=service.CATEGORIES[sub.category],
        email=user.email,
        done=True,
    )
