"""Admin view of the email outbox (what failed, what is being retried, queue again) and of
the scheduler processes that send it (last heartbeat, who is active)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for

from ..admin.views import admin_required
from ..db import get_session
from ..forms import ActionForm
from ..models import utcnow
from ..ops import scheduler_state
from . import outbox

bp = Blueprint("notify_admin", __name__, url_prefix="/admin")


@bp.get("/deliveries")
@admin_required
def deliveries():
    session = get_session()
    return render_template(
        "notify/admin_deliveries.html",
        counts=outbox.status_counts(session),
        rows=outbox.troubled(session),
        oldest_pending=outbox.oldest_pending(session),
        scheduler=scheduler_state.status(session),
        stale_after=timedelta(seconds=current_app.config["SCHEDULER_STALE_SECONDS"]),
        now=utcnow(),
        form=ActionForm(),
    )


@bp.post("/deliveries/<int:delivery_id>/retry")
@admin_required
def retry(delivery_id: int):
    if not ActionForm().validate_on_submit():
        abort(400, "This form expired. Reload the page and try again.")
    session = get_session()
    outbox.requeue(session, delivery_id, now=utcnow())
    session.commit()
    flash(f"Delivery {delivery_id} is queued again.", "success")
    return redirect(url_for("notify_admin.deliveries"), 303)
