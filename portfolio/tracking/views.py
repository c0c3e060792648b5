"""Members manage a project's runs; learners save their W&B key (parse → service → render).

Every action is a CSRF-protected POST. A refused action re-renders the management page
with the reason next to the field (status 4xx, nothing saved); a done one redirects.
"Sync now" only queues: the scheduler (in-process by default) picks the link up within a
minute, and the page shows "queued", "syncing", "synced 2 minutes ago" or the error. An
uploaded offline run is queued the same way (``import_queue``): the page shows
"importing…", then the result or the error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlmodel import Session

from ..db import get_session
from ..errors import DomainError
from ..extensions import csrf
from ..forms import ActionForm, Form, commit_or_show, safe_next
from ..models import Project, RunLink, utcnow
from ..projects.loading import load_project
from ..templating import viewer_timezone
from . import completeness, credentials, import_queue, link, status
from .forms import (
    CredentialForm,
    LinkEditForm,
    MlflowExperimentForm,
    MlflowRunForm,
    OfflineUploadForm,
    ProjectLinkForm,
    RunLinkForm,
)
from .offline_zip import ZipLimits
from .settings import TrackingSettings, source_name

bp = Blueprint("tracking", __name__)
ID = "int(max=2147483647)"
EXPIRED = "This form expired or was not sent from this site. Reload the page and try again."


def _manage_url(handle: str, slug: str) -> str:
    return url_for("tracking.manage", handle=handle, slug=slug)


def link_rows(project: Project) -> list[tuple[link.LinkRow, status.Status, int]]:
    """Flatten a project's links for templates: (row, status, depth), children after parents."""
    now, tz = utcnow(), viewer_timezone()
    out: list[tuple[link.LinkRow, status.Status, int]] = []
    for row in link.list_links(get_session(), project):
        out.append((row, status.describe(row.link, now, tz), 0))
        out += [(c, status.describe(c.link, now, tz), 1) for c in row.children]
    return out


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {
        "tracking_link_rows": link_rows,
        "matched_text": status.matched_text,
        "tracker_name": source_name,
    }


def _edit_form(item: RunLink) -> LinkEditForm:
    tags = item.tag_filter.replace(",", ", ")
    return LinkEditForm(prefix=f"edit{item.id}", obj=item, tags=tags, formdata=None)


def _page(session, project: Project, *, status_code: int = 200, **forms: Any):
    settings = TrackingSettings.current()
    keys = credentials.list_credentials(session, current_user.id)
    has_wandb_key = any(k.provider == "wandb" for k in keys)
    rows = link_rows(project)
    html = render_template(
        "tracking/manage.html",
        project=project,
        handle=request.view_args["handle"],  # type: ignore[index]
        rows=rows,
        edit_forms={row.link.id: _edit_form(row.link) for row, _, _ in rows},
        run_form=forms.get("run_form") or RunLinkForm(prefix="run", formdata=None),
        project_form=forms.get("project_form") or ProjectLinkForm(prefix="project", formdata=None),
        upload_form=forms.get("upload_form") or OfflineUploadForm(prefix="upload", formdata=None),
        mlflow_run_form=forms.get("mlflow_run_form")
        or MlflowRunForm(prefix="mlrun", formdata=None),
        mlflow_experiment_form=forms.get("mlflow_experiment_form")
        or MlflowExperimentForm(prefix="mlexp", formdata=None),
        has_mlflow_server=any(k.provider == "mlflow" for k in keys),
        has_any_key=bool(has_wandb_key or settings.server_key),
        upload_mb=settings.upload_max_bytes // (1024 * 1024),
        imports=import_queue.recent(session, project),
    )
    return html, status_code


def add_link(
    handle: str,
    slug: str,
    form: Form,
    name: str,
    create: Callable[[Session, Project], RunLink],
    message: Callable[[RunLink], str],
):
    """Add a link from ``form`` (W&B or MLflow, run or project): the steps all four share.

    ``create`` calls the service; done → flash ``message(new)`` and redirect, refused →
    the runs page again with ``form`` in its slot ``name`` and the reason (422).
    """
    session, project, _ = load_project(handle, slug, edit=True)
    if form.validate_on_submit():
        done = commit_or_show(session, form, lambda: create(session, project))
        if done:
            flash(message(done.value), "success")
            return redirect(_manage_url(handle, project.slug), 303)
    return _page(session, project, status_code=422, **{name: form})


@bp.get("/u/<handle>/<slug>/runs")
@login_required
def manage(handle: str, slug: str):
    session, project, _ = load_project(handle, slug, edit=True)
    return _page(session, project)


@bp.post("/u/<handle>/<slug>/runs/link")
@login_required
def add_run(handle: str, slug: str):
    form = RunLinkForm(prefix="run")
    return add_link(handle, slug, form, "run_form", lambda session, project: link.add_run_link(
        session, project, current_user, form.ref.data, form.label.data,
        form.hidden.data, now=utcnow(),
    ), lambda new: f"Linked {new.ref}. Its results arrive within a minute.")  # fmt: skip


@bp.post("/u/<handle>/<slug>/runs/follow")
@login_required
def add_project(handle: str, slug: str):
    form = ProjectLinkForm(prefix="project")
    return add_link(handle, slug, form, "project_form", lambda session, project: (
        link.add_project_filter(
            session, project, current_user, form.ref.data, form.tags.data,
            form.label.data, form.hidden.data, now=utcnow(),
        )
    ), _following)  # fmt: skip


def _following(new: RunLink) -> str:
    """Confirm a follow, saying how many runs matched when W&B answered in time."""
    tags = new.tag_filter.replace(",", " or ")
    which = f"runs tagged {tags}" if tags else "runs"
    matched = status.matched_text(new)
    if not matched:
        return f"Following the {which} of {new.ref}; they appear in a few minutes."
    if new.matched_runs:
        return f"Following {new.ref}: {matched} right now; they appear in a few minutes."
    return (
        f"Following {new.ref}, but {matched} right now. Tag runs in W&B (or change the tag "
        f"below) and they appear on the next sync."
    )


@bp.post("/u/<handle>/<slug>/runs/upload")
@csrf.exempt  # the form checks its token itself, after the bigger body limit is set
@login_required
def upload(handle: str, slug: str):
    settings = TrackingSettings.current()
    request.max_content_length = settings.upload_max_bytes + 1024 * 1024  # room for the form
    session, project, _ = load_project(handle, slug, edit=True)
    form = OfflineUploadForm(prefix="upload")
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400, EXPIRED)
        return _page(session, project, upload_form=form, status_code=422)
    limits = ZipLimits(max_zip_bytes=settings.upload_max_bytes)
    upload = form.archive.data
    done = commit_or_show(session, form, lambda: import_queue.enqueue(
        session, project, current_user, upload.read(), filename=upload.filename or "",
        label=form.label.data, hidden=form.hidden.data, limits=limits, now=utcnow(),
    ), commit=lambda job: import_queue.commit_upload(session, job))  # fmt: skip
    if not done:  # a bad zip (422) or an unreachable store (503): nothing saved
        status_code = done.error.status if done.error.status >= 500 else 422
        return _page(session, project, upload_form=form, status_code=status_code)
    flash("Uploaded. Importing the run now; refresh this page in a moment for the result.", "info")
    return redirect(_manage_url(handle, project.slug) + "#upload-offline", 303)


def _load_link(handle: str, slug: str, link_id: int):
    """Load a project the viewer may edit and one of its links, or abort (403/404)."""
    session, project, _ = load_project(handle, slug, edit=True)
    try:
        return session, project, link.get_link(session, project, link_id)
    except DomainError:
        abort(404)


def _action(handle: str, slug: str, link_id: int):
    """Load a link for a button (a form with only a CSRF token)."""
    if not ActionForm().validate_on_submit():
        abort(400, EXPIRED)
    return _load_link(handle, slug, link_id)


def _back(handle: str, slug: str):
    return redirect(safe_next(request.form.get("next"), _manage_url(handle, slug)), 303)


@bp.post(f"/u/<handle>/<slug>/runs/<{ID}:link_id>/edit")
@login_required
def edit(handle: str, slug: str, link_id: int):
    session, project, item = _load_link(handle, slug, link_id)
    form = LinkEditForm(prefix=f"edit{link_id}")
    if form.validate_on_submit():
        tags = form.tags.data if form.tags.raw_data else None  # absent: keep them
        before = item.tag_filter
        if commit_or_show(session, form, lambda: link.update_link(
            session, item, label=form.label.data, hidden=form.hidden.data, now=utcnow(),
            tags=tags,
        )):  # fmt: skip
            if item.tag_filter != before:
                flash("Saved. Runs with the new tags are looked up within a minute.", "success")
            else:
                flash("Saved.", "success")
            return _back(handle, project.slug)
    if form.csrf_token.errors:
        abort(400, EXPIRED)
    errors = [e for f in form for e in f.errors] + list(form.form_errors)
    flash(" ".join(errors) or "That could not be saved.", "error")
    return _page(session, project, status_code=422)


@bp.post(f"/u/<handle>/<slug>/runs/<{ID}:link_id>/sync")
@login_required
def sync_now(handle: str, slug: str, link_id: int):
    session, project, item = _action(handle, slug, link_id)
    done = commit_or_show(session, None, lambda: link.request_sync(session, item, utcnow()))
    if not done:
        return _refused(session, project, done.error)
    queued = done.value
    flash("Queued: the sync starts within a minute." if queued else "It is syncing now.", "info")
    return _back(handle, project.slug)


def _refused(session, project, err: DomainError):
    """A one-button action the service refused: the manage page again, with why."""
    flash(err.message, "error")
    return _page(session, project, status_code=422)


def _choose(handle: str, slug: str, link_id: int, replace: bool):
    """Apply a member's choice about a held (less complete) result: replace, or keep."""
    session, project, item = _action(handle, slug, link_id)
    done = commit_or_show(
        session,
        None,
        lambda: (
            completeness.replace_anyway(session, project, item, now=utcnow())
            if replace
            else completeness.keep_current(session, item)
        ),
    )
    if not done:
        return _refused(session, project, done.error)
    if replace:
        flash(f"Replaced the results of {item.ref} with the newer, less complete ones.", "success")
    else:
        flash(f"Kept the current results of {item.ref}; the newer ones were dropped.", "success")
    return _back(handle, project.slug)


@bp.post(f"/u/<handle>/<slug>/runs/<{ID}:link_id>/replace")
@login_required
def replace_anyway(handle: str, slug: str, link_id: int):
    return _choose(handle, slug, link_id, replace=True)


@bp.post(f"/u/<handle>/<slug>/runs/<{ID}:link_id>/keep")
@login_required
def keep_current(handle: str, slug: str, link_id: int):
    return _choose(handle, slug, link_id, replace=False)


@bp.post(f"/u/<handle>/<slug>/runs/<{ID}:link_id>/unlink")
@login_required
def remove(handle: str, slug: str, link_id: int):
    session, project, item = _action(handle, slug, link_id)
    ref = item.ref
    done = commit_or_show(session, None, lambda: link.unlink(session, project, item, now=utcnow()))
    if not done:
        return _refused(session, project, done.error)
    flash(f"Unlinked {ref}; its results are gone from the page.", "success")
    return _back(handle, project.slug)


@bp.route("/settings/wandb", methods=["GET", "POST"])
@login_required
def settings_page():
    session = get_session()
    form = CredentialForm()
    if form.validate_on_submit():
        done = commit_or_show(
            session,
            form,
            lambda: credentials.save_credential(
                session,
                current_user,
                api_key=form.api_key.data,
                base_url=form.base_url.data,
                now=utcnow(),
                settings=TrackingSettings.current(),
            ),
        )
        if done:
            saved, note = done.value
            flash(f"Saved your key ending in …{saved.last4} for {saved.base_url}.{note}", "success")
            return redirect(url_for("tracking.settings_page"), 303)
    form.api_key.data = ""  # never echo a key back, not even a rejected one
    status_code = 422 if form.errors or form.form_errors else 200
    response = make_response(
        render_template(
            "tracking/settings.html",
            form=form,
            saved=[
                c
                for c in credentials.list_credentials(session, current_user.id)
                if c.provider == "wandb"
            ],
            server_key=bool(TrackingSettings.current().server_key),
            server_url=TrackingSettings.current().base_url,
        ),
        status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post(f"/settings/wandb/<{ID}:credential_id>/delete")
@login_required
def delete_key(credential_id: int):
    if not ActionForm().validate_on_submit():
        abort(400, EXPIRED)
    session = get_session()
    done = commit_or_show(
        session, None, lambda: credentials.delete_credential(session, current_user, credential_id)
    )
    if not done:
        abort(404)
    gone = done.value
    if gone.provider == "mlflow":  # the MLflow settings page lists servers, not keys
        flash(f"Deleted the MLflow server {gone.base_url}.", "success")
        return redirect(url_for("tracking.mlflow_settings"), 303)
    flash(f"Deleted your key for {gone.base_url}.", "success")
    return redirect(url_for("tracking.settings_page"), 303)


from . import mlflow_views  # noqa: E402, F401  (its routes join this blueprint)
