"""Deleting one's own account from the settings (admins delete others' in admin.views)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, logout_user
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..db import get_session
from ..extensions import limiter
from ..forms import Form, commit_or_show
from ..models import utcnow
from . import deletion
from .handles import RESERVATION_DAYS
from .rules import PASSWORD_MAX
from .views import bp


class DeleteAccountForm(Form):
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    confirm_handle = StringField(
        "Type your handle to confirm", validators=[DataRequired(), Length(max=31)]
    )


def _delete_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/settings/delete", methods=["GET", "POST"])
@login_required
@limiter.limit(_delete_limit, methods=["POST"])
def delete_account():
    """Delete one's own account after the password and the typed handle."""
    form = DeleteAccountForm()
    if form.validate_on_submit():
        session = get_session()
        user = current_user._get_current_object()

        def action() -> None:
            deletion.confirm(user, password=form.password.data, handle=form.confirm_handle.data)
            deletion.delete_account(session, user, now=utcnow())

        if commit_or_show(session, form, action):
            logout_user()
            flash("Your account and your data are deleted. Goodbye, and good luck!", "info")
            return redirect(url_for("public.home"), 303)
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "settings/delete.html", form=form, reservation_days=RESERVATION_DAYS
    ), status
