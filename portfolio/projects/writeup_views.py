"""Editing the write-up, its figures and the project's charts."""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from ..charts.model import STEP
from ..errors import DomainError, NotFound
from ..extensions import limiter
from ..forms import ActionForm, apply_error, commit_or_show
from ..models import utcnow
from ..public import service as public
from ..storage import StorageUnavailable
from . import images, writeup
from .forms import ChartForm, ImageForm, PreviewForm, WriteUpForm
from .loading import load_project, project_url
from .views import bp


def _writeup_limit() -> str:
    return current_app.config["WRITEUP_RATE_LIMIT"]


def _author_key() -> str:
    """One budget per account (people behind one address do not share it)."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return get_remote_address()


# Saving and previewing have the same limit, each its own budget, so a preview
# while typing never uses up the save that follows.
writeup_limit = limiter.limit(_writeup_limit, key_func=_author_key, methods=["POST"])


def _page(
    session,
    project,
    *,
    form=None,
    image_form=None,
    chart_form=None,
    preview=None,
    status=200,
):
    runs = public.visible_runs(session, project.id, include_hidden=True)
    metric_keys = public.metric_keys(session, [snap.id for _, snap in runs])
    chart_form = chart_form or ChartForm(formdata=None)
    chart_form.metrics.choices = metric_keys
    chart_form.runs.choices = [(str(link.id), link.label or snap.name) for link, snap in runs]
    return render_template(
        "projects/write_up.html",
        project=project,
        form=form or WriteUpForm(obj=project, formdata=None),
        image_form=image_form or ImageForm(formdata=None),
        chart_form=chart_form,
        images=images.list_images(session, project.id),
        metric_keys=metric_keys,
        runs=runs,
        preview=preview,
    ), status


@bp.route("/u/<handle>/<slug>/write-up", methods=["GET", "POST"])
@login_required
@writeup_limit
def write_up(handle: str, slug: str):
    session, project, _ = load_project(handle, slug, edit=True)
    form = WriteUpForm(obj=project) if request.method == "POST" else None
    if form is not None and "preview" in request.form:
        return _preview_page(session, project, form)
    if (
        form is not None
        and form.validate_on_submit()
        and commit_or_show(
            session,
            form,
            lambda: writeup.update_write_up(
                session,
                project,
                body_md=form.body_md.data or "",
                headline_metric=form.headline_metric.data or "",
                headline_goal=form.headline_goal.data,
                now=utcnow(),
            ),
        )
    ):
        flash("Write-up saved.", "success")
        return redirect(project_url(project))
    failed = form is not None and (form.errors or form.form_errors)
    return _page(session, project, form=form, status=422 if failed else 200)


def _preview_page(session, project, form: WriteUpForm):
    """The Preview button without JS: the edit page again, text kept, preview shown."""
    preview = None
    if form.validate_on_submit():
        try:
            preview = writeup.preview_write_up(form.body_md.data or "")
        except DomainError as err:
            apply_error(form, err)
    failed = bool(form.errors or form.form_errors)
    return _page(session, project, form=form, preview=preview, status=422 if failed else 200)


@bp.post("/u/<handle>/<slug>/write-up/preview")
@login_required
@writeup_limit
def preview_write_up(handle: str, slug: str):
    """Live preview (JSON): the text rendered as the page would show it; nothing saved."""
    load_project(handle, slug, edit=True)
    form = PreviewForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            return jsonify({"status": 400, "error": "This page expired. Reload it."}), 400
        return jsonify({"status": 422, "error": form.body_md.errors[0]}), 422
    try:
        html = writeup.preview_write_up(form.body_md.data or "")
    except DomainError as err:
        return jsonify({"status": 422, "error": err.message}), 422
    return jsonify({"html": str(html)})


@bp.post("/u/<handle>/<slug>/images")
@login_required
def upload_image(handle: str, slug: str):
    session, project, _ = load_project(handle, slug, edit=True)
    form = ImageForm()
    status = 422
    if form.validate_on_submit():
        done = commit_or_show(
            session,
            form,
            lambda: images.save_image(
                session,
                project,
                uploader=current_user,
                stream=form.image.data.stream,
                alt=form.alt.data,
            ),
            commit=lambda image: images.commit_or_discard(session, image.filename),
        )
        if done:
            image = done.value
            flash(
                f"Uploaded. Paste ![{image.alt}]({_image_url(project, image)}) into your write-up.",
                "success",
            )
            return redirect(url_for("projects.write_up", handle=handle, slug=project.slug))
        if isinstance(done.error, StorageUnavailable):
            status = done.error.status  # our outage, not bad input: the form says so
    return _page(session, project, image_form=form, status=status)


@bp.post("/u/<handle>/<slug>/images/<filename>/delete")
@login_required
def delete_image(handle: str, slug: str, filename: str):
    session, project, _ = load_project(handle, slug, edit=True)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        image = images.get_image(session, project, filename)
    except NotFound:
        abort(404)
    # An unreachable store raises StorageUnavailable: a 503 page that says so, nothing deleted.
    images.delete_image(session, project, image)
    session.commit()
    flash("Image deleted.", "success")
    return redirect(url_for("projects.write_up", handle=handle, slug=project.slug))


@bp.post("/u/<handle>/<slug>/charts")
@login_required
def add_chart(handle: str, slug: str):
    session, project, _ = load_project(handle, slug, edit=True)
    form = ChartForm()
    runs = public.visible_runs(session, project.id, include_hidden=True)
    keys = public.metric_keys(session, [snap.id for _, snap in runs])
    if form.validate_on_submit():
        try:
            run_ids = [int(r) for r in form.runs.data or []]
        except ValueError:
            form.runs.errors = ["Pick runs from this project."]
        else:
            if commit_or_show(
                session,
                form,
                lambda: writeup.add_chart(
                    session,
                    project,
                    metrics=list(form.metrics.data or []),
                    x_axis=(form.x_axis.data or STEP).strip(),
                    smoothing=form.smoothing.data or 0.0,
                    log_y=bool(form.log_y.data),
                    runs=run_ids,
                    available_metrics=keys,
                    available_runs=[link.id for link, _ in runs],
                    now=utcnow(),
                ),
            ):
                flash("Chart added.", "success")
                return redirect(project_url(project))
    return _page(session, project, chart_form=form, status=422)


@bp.post("/u/<handle>/<slug>/charts/<int:index>/delete")
@login_required
def delete_chart(handle: str, slug: str, index: int):
    session, project, _ = load_project(handle, slug, edit=True)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not commit_or_show(
        session, None, lambda: writeup.remove_chart(session, project, index, now=utcnow())
    ):
        abort(404)
    flash("Chart removed.", "success")
    return redirect(url_for("projects.write_up", handle=handle, slug=project.slug))


def _image_url(project, image) -> str:
    return project_url(project, "public.image", filename=image.filename)
