"""Admin pages. Every route requires the admin role."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField

from ..auth import service as accounts
from ..db import get_session
from ..errors import DomainError
from ..models import Role

bp = Blueprint("admin", __name__, url_prefix="/admin")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(r.value, r.value.title()) for r in Role])


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
    return render_template("admin/users.html", rows=rows)


@bp.post("/users/<int:user_id>/role")
@admin_required
def change_role(user_id: int):
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose one of the listed roles.", "error")
        return redirect(url_for("admin.users")), 303
    session = get_session()
    try:
        user = accounts.set_role(session, actor=current_user, user_id=user_id, role=form.role.data)
    except DomainError as err:
        session.rollback()
        flash(err.message, "error")
        return redirect(url_for("admin.users"))
    session.commit()
    flash(f"{user.display_name} is now {user.role}.", "success")
    return redirect(url_for("admin.users"))
