"""Pages behind the emailed links: forgotten password, reset, address confirmations.

The link pages answer GET with a form or a button and act only on POST, so a
mail scanner that fetches links cannot spend them. They are never cached and
send no Referer, since their URL holds the secret.
"""

from __future__ import annotations

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..db import get_session
from ..errors import DomainError
from ..extensions import limiter
from ..forms import ActionForm, apply_error, commit_or_show
from ..models import TokenPurpose, User, utcnow
from . import email_links, recovery
from .email_links import LinkError
from .forms import ForgotForm, ResetForm
from .views import bp, sign_in


def ip_limit() -> str:
    return current_app.config["ACCOUNT_EMAIL_RATE_LIMIT"]


def address_limit() -> str:
    return current_app.config["ACCOUNT_EMAIL_ADDRESS_RATE_LIMIT"]


def _address_key() -> str:
    """Count reset requests per address asked for, whoever asks and from wherever."""
    return "address:" + (request.form.get("email") or "").strip().lower()[:254]


def account_key() -> str:
    return f"account:{current_user.id}"


def _viewer() -> User | None:
    return current_user if current_user.is_authenticated else None


def _private(body, status: int = 200):
    """A response for a page whose URL holds a secret: not stored, not referred."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _link_problem(err: DomainError, purpose: str):
    """The page for a link that cannot be used: why, and how to get a new one."""
    status = err.status
    expired = isinstance(err, LinkError) and err.expired
    return _private(
        render_template(
            "auth/link_problem.html", message=err.message, expired=expired, purpose=purpose
        ),
        status,
    )


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(ip_limit, methods=["POST"])
@limiter.limit(address_limit, key_func=_address_key, methods=["POST"])
def forgot_password():
    form = ForgotForm()
    if form.validate_on_submit():
        session = get_session()
        if commit_or_show(
            session, form, lambda: recovery.request_reset(session, form.email.data, now=utcnow())
        ):
            # The same answer whether or not the address has an account.
            return render_template("auth/forgot_sent.html", email=form.email.data.strip())
    status = 422 if form.errors or form.form_errors else 200
    return render_template("auth/forgot.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    session = get_session()
    now = utcnow()
    try:
        user = recovery.check_reset_link(session, token, viewer=_viewer(), now=now)
    except DomainError as err:
        return _link_problem(err, "reset")
    form = ResetForm()
    if form.validate_on_submit():
        done = commit_or_show(
            session,
            None,
            lambda: recovery.reset_password(
                session, token, form.new.data, viewer=_viewer(), now=now
            ),
        )
        if isinstance(done.error, LinkError):
            return _link_problem(done.error, "reset")
        if not done:
            err = done.error
            err.field = "new" if err.field == "password" else err.field
            apply_error(form, err)
        else:
            sign_in(done.value)
            flash(
                "Your password is changed. Every other session is signed out; "
                "this browser is signed in.",
                "success",
            )
            return redirect(url_for("seasons.dashboard"))
    status = 422 if form.errors or form.form_errors else 200
    return _private(render_template("auth/reset.html", form=form, user=user), status)


@bp.route("/email/verify/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    return _confirm_page(
        token,
        purpose="verify",
        check=recovery.confirm_address,
        title="Confirm your email address",
        button="Confirm my address",
        done="Thank you: your email address is confirmed.",
    )


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str):
    return _confirm_page(
        token,
        purpose="email_change",
        check=recovery.confirm_email_change,
        title="Confirm your new email address",
        button="Use this address",
        done="Your email address is changed.",
    )


def _confirm_page(token: str, *, purpose: str, check, title: str, button: str, done: str):
    """Show a confirm button for a link (GET), act on it (POST)."""
    session = get_session()
    form = ActionForm()
    if form.validate_on_submit():
        outcome = commit_or_show(
            session, None, lambda: check(session, token, viewer=_viewer(), now=utcnow())
        )
        if not outcome:
            return _link_problem(outcome.error, purpose)
        flash(done, "success")
        if current_user.is_authenticated:
            return redirect(url_for("auth.email_settings"))
        return redirect(url_for("auth.login"))
    # Check the link before offering the button, so a bad one says so at once.
    try:
        email_links.find(session, token, TokenPurpose(purpose), viewer=_viewer(), now=utcnow())
    except DomainError as err:
        return _link_problem(err, purpose)
    return _private(
        render_template("auth/link_confirm.html", form=form, title=title, button=button)
    )


@bp.post("/settings/email/verify")
@login_required
@limiter.limit(ip_limit)
@limiter.limit(address_limit, key_func=account_key)
def resend_verification():
    if not ActionForm().validate_on_submit():
        return redirect(url_for("auth.email_settings"), 303)
    session = get_session()
    done = commit_or_show(
        session, None, lambda: recovery.send_verification(session, current_user, now=utcnow())
    )
    if not done:
        flash(done.error.message, "info")
    else:
        flash(f"We sent a new confirmation link to {current_user.email}.", "success")
    return redirect(url_for("auth.email_settings"), 303)
