"""MLflow pages on the tracking blueprint: link a run, follow an experiment, save a server.

Thin like views.py: parse the form, call ``mlflow_link`` / ``mlflow_credentials``, commit
once, redirect; a refused action re-renders the runs page (or the settings page) with the
reason next to the field and status 422, nothing saved.
"""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..db import get_session
from ..forms import Form, commit_or_show
from ..models import LinkKind, RunLink, utcnow
from . import mlflow_credentials, mlflow_link
from .forms import MlflowExperimentForm, MlflowRunForm, MlflowServerForm
from .settings import TrackingSettings
from .views import add_link, bp


def _link(handle: str, slug: str, form: Form, name: str, kind: LinkKind):
    """Link a run or follow an experiment from ``form``; re-render with the reason if refused."""
    return add_link(handle, slug, form, name, lambda session, project: (
        mlflow_link.add_mlflow_link(
            session, project, current_user, form.ref.data, kind=kind,
            tags=form.tags.data if kind == LinkKind.project_filter else "",
            label=form.label.data, hidden=form.hidden.data, now=utcnow(),
        )
    ), _linked if kind == LinkKind.run else _following)  # fmt: skip


def _linked(new: RunLink) -> str:
    return f"Linked the MLflow run {new.ref}. Its results arrive within a minute."


def _following(new: RunLink) -> str:
    tags = new.tag_filter.replace(",", " or ")
    which = f"runs tagged {tags}" if tags else "runs"
    return f"Following the {which} of MLflow experiment {new.ref}."


@bp.post("/u/<handle>/<slug>/runs/mlflow/link")
@login_required
def add_mlflow_run(handle: str, slug: str):
    form = MlflowRunForm(prefix="mlrun")
    return _link(handle, slug, form, "mlflow_run_form", LinkKind.run)


@bp.post("/u/<handle>/<slug>/runs/mlflow/follow")
@login_required
def add_mlflow_experiment(handle: str, slug: str):
    form = MlflowExperimentForm(prefix="mlexp")
    return _link(handle, slug, form, "mlflow_experiment_form", LinkKind.project_filter)


@bp.route("/settings/mlflow", methods=["GET", "POST"])
@login_required
def mlflow_settings():
    session = get_session()
    form = MlflowServerForm()
    if form.validate_on_submit():
        done = commit_or_show(session, form, lambda: mlflow_credentials.save_server(
            session, current_user, base_url=form.base_url.data, token=form.token.data,
            username=form.username.data, password=form.password.data, now=utcnow(),
            settings=TrackingSettings.current(),
        ))  # fmt: skip
        if done:
            saved, note = done.value
            flash(f"Saved the MLflow server {saved.base_url}.{note}", "success")
            return redirect(url_for("tracking.mlflow_settings"), 303)
    form.token.data = form.password.data = ""  # never echo a secret back
    response = make_response(
        render_template(
            "tracking/mlflow_settings.html",
            form=form,
            saved=mlflow_credentials.list_servers(session, current_user.id),
        ),
        422 if form.errors or form.form_errors else 200,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
