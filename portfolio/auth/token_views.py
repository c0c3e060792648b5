"""Settings page for personal access tokens: create (shown once), list, revoke.

The page is reached with the session cookie only: API tokens are honoured by
the API blueprint alone, so a token can never create or revoke tokens.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from wtforms import RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..db import get_session
from ..forms import ActionForm, Form, commit_or_show
from ..models import utcnow
from . import tokens
from .views import bp

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,79}(/[a-z0-9][a-z0-9-]{0,79})?")

EXPIRY_CHOICES = [
    SelectChoice("30", "In 30 days"),
    SelectChoice("90", "In 90 days"),
    SelectChoice("365", "In a year"),
    SelectChoice("never", "Never"),
]


class TokenForm(Form):
    name = StringField(
        "Name",
        validators=[DataRequired(), Length(max=80)],
        description="What it is for, e.g. “training laptop” or “lab cluster”.",
    )
    access = RadioField(
        "Access",
        choices=[
            SelectChoice(
                "read", "Read: your projects, milestones, runs, updates and notifications"
            ),
            SelectChoice(
                "write", "Read and write: also link runs, edit projects, milestones and updates"
            ),
        ],
        default="write",
    )
    expires = SelectField("Expires", choices=EXPIRY_CHOICES, default="90")


def _prefill() -> dict[str, str]:
    """Form values from the query string (the runs page's "Create a token" link); bad ones drop."""
    args = request.args
    data = {"name": args.get("name", "")[:80]}
    if args.get("access") in ("read", "write"):
        data["access"] = args["access"]
    if args.get("expires") in {c.value for c in EXPIRY_CHOICES}:
        data["expires"] = args["expires"]
    return data


def _project_slug() -> str | None:
    """The project the token is for (shown in the snippet), if it looks like a slug."""
    slug = request.args.get("project", "")
    return slug if _SLUG.fullmatch(slug) else None


@bp.route("/settings/tokens", methods=["GET", "POST"])
@login_required
def tokens_page():
    session = get_session()
    now = utcnow()
    form = TokenForm() if request.method == "POST" else TokenForm(data=_prefill())
    created = None
    if form.validate_on_submit():
        days = form.expires.data
        done = commit_or_show(
            session,
            form,
            lambda: tokens.create(
                session,
                current_user,
                name=form.name.data,
                access=form.access.data,
                expires_at=None if days == "never" else now + timedelta(days=int(days)),
                now=now,
            ),
        )
        if done:
            created = done.value
            form = TokenForm(formdata=None)
    rows = [(t, tokens.state(t, now)) for t in tokens.list_for(session, current_user.id)]
    status = 422 if form.errors or form.form_errors else 200
    response = make_response(
        render_template(
            "settings/tokens.html",
            form=form,
            created=created,
            rows=rows,
            revoke_form=ActionForm(),
            base_url=current_app.config["BASE_URL"],
            project_slug=_project_slug(),
        ),
        status,
    )
    # The page may hold a freshly created secret: keep it out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/settings/tokens/<int(max=2147483647):token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if not ActionForm().validate_on_submit():
        abort(400, "This form expired. Reload the page and try again.")
    session = get_session()
    done = commit_or_show(
        session, None, lambda: tokens.revoke(session, current_user.id, token_id, now=utcnow())
    )
    if not done:
        abort(404)
    token = done.value
    flash(f"The token “{token.name}” is revoked; scripts using it will get 401.", "success")
    return redirect(url_for("auth.tokens_page"), 303)
