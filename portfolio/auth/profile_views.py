"""The avatar: upload and remove it in the profile settings, serve it on public pages."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..db import get_session
from ..forms import ActionForm, commit_or_show
from ..projects import images
from ..storage import StorageNotFound, StorageUnavailable
from . import profile, rules, service
from .forms import AvatarForm, ProfileForm
from .views import bp


@bp.post("/settings/profile/avatar")
@login_required
def upload_avatar():
    form = AvatarForm()
    status = 422
    if form.validate_on_submit():
        session = get_session()
        done = commit_or_show(
            session,
            form,
            lambda: profile.set_avatar(session, current_user, stream=form.image.data.stream),
            commit=lambda name: images.commit_or_discard(
                session, name, key=profile.avatar_key(name)
            ),
        )
        if done:
            flash("Your photo is saved.", "success")
            return redirect(url_for("auth.profile"), 303)
        session.refresh(current_user)
        if isinstance(done.error, StorageUnavailable):
            status = done.error.status  # our outage, not bad input: the form says so
    return render_template(
        "settings/profile.html",
        form=ProfileForm(obj=current_user, formdata=None),
        avatar_form=form,
        timezones=sorted(rules.timezone_names()),
    ), status


@bp.post("/settings/profile/avatar/delete")
@login_required
def delete_avatar():
    if not ActionForm().validate_on_submit():
        abort(400, "This form expired. Reload the page and try again.")
    session = get_session()
    # An unreachable store raises StorageUnavailable: a 503 page that says so, nothing deleted.
    profile.remove_avatar(session, current_user)
    session.commit()
    flash("Your photo is removed.", "success")
    return redirect(url_for("auth.profile"), 303)


# Outside /u/<handle>/, where a project slug "avatar" would clash with it.
@bp.get("/avatars/<handle>/<name>")
def avatar(handle: str, name: str):
    """The avatar's bytes; each upload has a new random name, so the name is its ETag."""
    session = get_session()
    user = service.get_user_by_handle(session, handle)
    if user is None or not user.avatar or name != user.avatar:
        abort(404)
    if request.if_none_match.contains(name):
        return _avatar_headers(Response(status=304), name)
    try:
        stored = profile.read_avatar(session, user, name)
    except StorageNotFound:
        stored = None
    if stored is None:
        abort(404)
    response = _avatar_headers(Response(stored.data, mimetype=stored.content_type), name)
    return response.make_conditional(request)


def _avatar_headers(response: Response, name: str) -> Response:
    response.headers["Content-Disposition"] = "inline"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    response.set_etag(name)
    return response
