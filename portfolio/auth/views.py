"""Sign up, log in, log out, and the account settings pages."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from ..db import get_session
from ..extensions import limiter
from ..forms import ActionForm, commit_or_show, safe_next
from ..models import User, utcnow
from . import profile as extras
from . import recovery, rules, service, sessions
from .forms import AvatarForm, LoginForm, PasswordForm, ProfileForm, SignupForm
from .personal_data import user_data

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _signup_limit() -> str:
    return current_app.config["SIGNUP_RATE_LIMIT"]


def _landing() -> str:
    """Where signing in or up leads: a same-site `next`, else the dashboard."""
    return safe_next(request.values.get("next"), url_for("seasons.dashboard"))


def sign_in(user: User, *, remember: bool = False) -> None:
    """Open a server-side session for this browser and log the user in with it; commits."""
    session = get_session()
    sessions.start(session, user, user_agent=request.user_agent.string, now=utcnow())
    session.commit()
    login_user(user, remember=remember)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(_landing())
    form = SignupForm()
    if form.is_submitted():
        # Every field is checked, by the form and by the rules, and every problem shown.
        form.validate()
        session = get_session()

        def register():
            user = service.register(
                session,
                email=form.email.data or "",
                handle=form.handle.data or "",
                display_name=form.display_name.data or "",
                password=form.password.data or "",
                timezone=form.timezone.data or "UTC",
            )
            if not form.errors:
                recovery.send_verification(session, user, now=utcnow())
            return user

        # sign_in commits; a problem only the form saw (say, a short password)
        # undoes the new account instead.
        done = commit_or_show(
            session,
            form,
            register,
            commit=lambda user: session.rollback() if form.errors else sign_in(user),
            keep_field_errors=True,
        )
        if done and not form.errors:
            user = done.value
            flash(
                f"Welcome to Seasons, {user.display_name}! We sent a link to {user.email} "
                "to confirm your address.",
                "success",
            )
            return redirect(_landing())
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "auth/signup.html", form=form, timezones=sorted(rules.timezone_names())
    ), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_landing())
    form = LoginForm()
    if form.validate_on_submit():
        session = get_session()
        user = service.authenticate(session, email=form.email.data, password=form.password.data)
        if user is None:
            form.form_errors.append("That email and password do not match an account.")
        elif not user.is_active:
            # Flask-Login would refuse silently; say why (the password was right).
            session.rollback()
            form.form_errors.append(
                "This account is suspended, so it cannot log in. "
                "If you think this is a mistake, contact the site's admins."
            )
        else:
            sign_in(user, remember=form.remember.data)
            flash("You are logged in.", "success")
            return redirect(_landing())
    status = 422 if form.errors or form.form_errors else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    # Logging out is a POST with a CSRF token, so another site cannot log you out.
    if ActionForm().validate_on_submit():
        if current_user.is_authenticated:
            session = get_session()
            row_id = sessions.current_row_id(current_user)
            if row_id is not None:
                sessions.end(session, current_user.id, row_id)
                session.commit()
        logout_user()
        flash("You are logged out.", "info")
    return redirect(url_for("public.home"))


@bp.route("/settings/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        session = get_session()

        def save() -> None:
            service.update_profile(
                session,
                current_user,
                display_name=form.display_name.data,
                handle=form.handle.data,
                timezone=form.timezone.data,
                bio=form.bio.data or "",
            )
            extras.update_extras(
                session,
                current_user,
                github_url=form.github_url.data or "",
                linkedin_url=form.linkedin_url.data or "",
                website_url=form.website_url.data or "",
                looking_for=form.looking_for.data or "",
            )

        if commit_or_show(session, form, save):
            flash("Your profile is saved.", "success")
            return redirect(url_for("auth.profile"))
        session.refresh(current_user)
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "settings/profile.html",
        form=form,
        avatar_form=AvatarForm(formdata=None),
        timezones=sorted(rules.timezone_names()),
    ), status


@bp.route("/settings/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        session = get_session()
        if commit_or_show(
            session,
            form,
            lambda: service.change_password(
                session,
                current_user,
                current=form.current.data,
                new=form.new.data,
                keep_session=sessions.current_row_id(current_user),
            ),
        ):
            flash("Your password is changed. Other sessions are logged out.", "success")
            return redirect(url_for("auth.password"))
        session.refresh(current_user)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("settings/password.html", form=form), status


@bp.get("/settings/data")
@login_required
def data():
    return render_template("settings/data.html")


@bp.get("/settings/data.json")
@login_required
def data_download():
    """All of the signed-in user's data as one JSON file (portability)."""
    response = jsonify(user_data(get_session(), current_user))
    response.headers["Content-Disposition"] = (
        f'attachment; filename="seasons-{current_user.handle}.json"'
    )
    # Personal data: no browser or proxy cache may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response
