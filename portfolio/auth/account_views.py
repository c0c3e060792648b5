"""Settings pages for the account itself: email address and signed-in sessions.

Reached with the session cookie only (API tokens are honoured by the API
blueprint alone), so a token can never change the address or end sessions.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..db import get_session
from ..extensions import limiter
from ..forms import ActionForm, commit_or_show
from ..models import utcnow
from . import recovery, sessions
from .forms import EmailChangeForm
from .recovery_views import account_key, address_limit, ip_limit
from .views import bp


@bp.route("/settings/email", methods=["GET", "POST"])
@login_required
# Each request mails a stranger's address: the same budget as verification resends.
@limiter.limit(ip_limit, methods=["POST"])
@limiter.limit(address_limit, key_func=account_key, methods=["POST"])
def email_settings():
    form = EmailChangeForm()
    if form.validate_on_submit():
        session = get_session()
        if commit_or_show(
            session,
            form,
            lambda: recovery.request_email_change(
                session,
                current_user,
                password=form.password.data,
                new_email=form.new_email.data,
                now=utcnow(),
            ),
        ):
            flash(
                f"We sent a confirmation link to {form.new_email.data.strip()}. Your address "
                "changes when you follow it; until then you keep using the current one.",
                "success",
            )
            return redirect(url_for("auth.email_settings"), 303)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("settings/email.html", form=form, resend_form=ActionForm()), status


@bp.get("/settings/sessions")
@login_required
def sessions_page():
    rows = sessions.list_for(get_session(), current_user.id)
    return render_template(
        "settings/sessions.html",
        rows=rows,
        current_id=sessions.current_row_id(current_user),
        form=ActionForm(),
    )


@bp.post("/settings/sessions/<int(max=2147483647):row_id>/end")
@login_required
def end_session(row_id: int):
    if not ActionForm().validate_on_submit():
        abort(400, "This form expired. Reload the page and try again.")
    if row_id == sessions.current_row_id(current_user):
        abort(400, "To end this session, log out.")
    session = get_session()
    if not sessions.end(session, current_user.id, row_id):
        abort(404)
    session.commit()
    flash("That session is signed out.", "success")
    return redirect(url_for("auth.sessions_page"), 303)


@bp.post("/settings/sessions/end-others")
@login_required
def end_other_sessions():
    if not ActionForm().validate_on_submit():
        abort(400, "This form expired. Reload the page and try again.")
    session = get_session()
    ended = sessions.end_others(
        session, current_user.id, keep=sessions.current_row_id(current_user)
    )
    session.commit()
    flash(f"Signed out everywhere else ({ended} session{'s' if ended != 1 else ''}).", "success")
    return redirect(url_for("auth.sessions_page"), 303)
