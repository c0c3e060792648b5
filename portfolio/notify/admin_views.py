"""Admin view of the email outbox: what failed, what is being retried, queue again."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from ..admin.views import admin_required
from ..db import get_session
from ..forms import ActionForm
from ..models import utcnow
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
