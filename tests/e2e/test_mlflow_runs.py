"""In Chromium: save an MLflow server, link an MLflow run, see it beside a W&B run.

The MLflow server is real (tests/tracking/mlflow_fixtures.py); the W&B run is a stored
snapshot, as a sync leaves it. Screenshot: mlflow-public-project.png.
"""

from __future__ import annotations

from datetime import UTC, datetime

from portfolio.models import Visibility
from scheduler import jobs
from tests.conftest import TEST_PASSWORD
from tests.tracking.mlflow_fixtures import LoggedMlflow

from .conftest import shot


def test_link_an_mlflow_run_and_show_it_next_to_wandb(
    app, live_server, page, session, make_user, make_project, make_run, mlflow_logged: LoggedMlflow
) -> None:
    ada = make_user("ada")
    project = make_project(ada, title="Digits")
    project.visibility = Visibility.public
    session.add(project)
    session.commit()
    wandb_run = make_run(
        project, name="wandb run", summary={"loss": 0.4}, config={"lr": 0.3, "batch": 32},
        series={"loss": [(0, 1.0), (1, 0.4)]}, started=datetime(2020, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    wandb_run.next_sync_at = datetime(2100, 1, 1, tzinfo=UTC)
    session.add(wandb_run)
    session.commit()
    ids = mlflow_logged.ids

    page.goto(live_server + "/login")
    page.fill("#email", ada.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    page.goto(live_server + "/settings/mlflow")
    page.fill("#base_url", mlflow_logged.url)
    page.click("main form:not(.inline-form) button[type=submit]")
    assert page.locator(".mlflow-servers").inner_text().startswith(mlflow_logged.url)

    page.goto(f"{live_server}/u/ada/{project.slug}/runs")
    run_link = f"{mlflow_logged.url}/#/experiments/{ids['experiment_id']}/runs/{ids['baseline']}"
    page.fill("#mlrun-ref", run_link)
    page.click("section:has(#link-mlflow) button[type=submit]")
    assert "Linked the MLflow run" in page.content()
    assert jobs.sync_due_runs(app) == {"synced": 1}

    page.goto(f"{live_server}/u/ada/{project.slug}")
    results = page.locator("section.results")
    text = results.inner_text()
    assert "<b>baseline</b> run" in text  # the run's name, shown as text
    assert "(MLflow)" in text and "(W&B)" in text
    assert page.locator("section.results b").count() == 0  # MLflow's markup never renders
    assert page.locator("figure.chart").count() >= 1
    shot(page, "mlflow-public-project")
