"""Admin moderation: reported comments, stale feedback requests, suspensions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..admin.views import admin_required
from ..db import get_session
from ..forms import ActionForm, commit_or_show
from ..models import utcnow
from . import feedback, moderation

bp = Blueprint("discussion_admin", __name__, url_prefix="/admin")
ID = "int(max=2147483647)"


@bp.get("/reports")
@admin_required
def reports():
    session = get_session()
    return render_template(
        "discussion/admin_reports.html",
        reported=moderation.open_reports(session),
        stale=feedback.flagged(session),
        suspended=moderation.suspended_users(session),
        now=utcnow(),
    )


def _done(message: str):
    flash(message, "success")
    return redirect(url_for("discussion_admin.reports"), 303)


def _checked() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


@bp.post(f"/comments/<{ID}:comment_id>/<any(remove, dismiss):action>")
@admin_required
def decide(comment_id: int, action: str):
    """Remove a reported comment, or dismiss the reports about it."""
    _checked()
    session = get_session()
    if action == "remove":
        moderation.remove(session, comment_id=comment_id, actor=current_user, now=utcnow())
    else:
        moderation.dismiss(session, comment_id=comment_id, actor=current_user, now=utcnow())
    session.commit()
    return _done("Comment removed." if action == "remove" else "Reports dismissed.")


@bp.post(f"/users/<{ID}:user_id>/<any(suspend, unsuspend):action>")
@admin_required
def suspension(user_id: int, action: str):
    _checked()
    session = get_session()
    done = commit_or_show(
        session,
        None,
        lambda: (
            moderation.suspend(session, user_id=user_id, actor=current_user, now=utcnow())
            if action == "suspend"
            else moderation.unsuspend(session, user_id=user_id, actor=current_user)
        ),
    )
    if not done:
        if done.error.status == 404:
            abort(404)
        flash(done.error.message, "error")
        return redirect(url_for("discussion_admin.reports"), 303)
    user = done.value
    verb = "suspended" if action == "suspend" else "can log in and post again"
    return _done(f"@{user.handle} {verb}.")
