"""Admin pages. Every route requires the admin role."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..auth import deletion
from ..auth import service as accounts
from ..db import get_session
from ..forms import Form, commit_or_show
from ..models import Role, User, utcnow

bp = Blueprint("admin", __name__, url_prefix="/admin")


class RoleForm(Form):
    role = SelectField("Role", choices=[SelectChoice(r.value, r.value.title()) for r in Role])


class DeleteUserForm(Form):
    reason = TextAreaField(
        "Reason (kept in the admin log)",
        validators=[DataRequired(), Length(max=deletion.MAX_REASON)],
    )


def admin_required(view):
    """Let only admins through; others get 403 (they are signed in, just not allowed)."""

    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


@bp.get("/users")
@admin_required
def users():
    session = get_session()
    rows = [(u, RoleForm(role=u.role, formdata=None)) for u in accounts.list_users(session)]
    return render_template("admin/users.html", rows=rows, log=deletion.admin_log(session))


@bp.post("/users/<int(max=2147483647):user_id>/role")
@admin_required
def change_role(user_id: int):
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose one of the listed roles.", "error")
        return redirect(url_for("admin.users")), 303
    session = get_session()
    done = commit_or_show(
        session,
        None,
        lambda: accounts.set_role(
            session, actor=current_user, user_id=user_id, role=form.role.data
        ),
    )
    if not done:
        flash(done.error.message, "error")
        return redirect(url_for("admin.users"))
    user = done.value
    flash(f"{user.display_name} is now {user.role}.", "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int(max=2147483647):user_id>/delete", methods=["GET", "POST"])
@admin_required
def delete_user(user_id: int):
    """Delete someone's account, with a reason for the admin log."""
    session = get_session()
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    form = DeleteUserForm()
    if form.validate_on_submit():
        done: list[deletion.Deleted] = []

        def action() -> None:
            done.append(
                deletion.delete_by_admin(
                    session,
                    actor=current_user,
                    user_id=user_id,
                    reason=form.reason.data,
                    now=utcnow(),
                )
            )

        if commit_or_show(session, form, action):
            flash(done[0].describe(), "success")
            return redirect(url_for("admin.users"), 303)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/delete_user.html", form=form, user=user), status
