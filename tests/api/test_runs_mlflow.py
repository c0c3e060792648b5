"""Linking MLflow runs and following MLflow experiments through the JSON API (real server)."""

from __future__ import annotations

from datetime import UTC, datetime

from portfolio.models import RunLink
from portfolio.tracking import mlflow_credentials
from portfolio.tracking.settings import TrackingSettings
from tests.tracking.mlflow_fixtures import LoggedMlflow

from .conftest import World, problem, snapshot_tables


def runs_path(world: World) -> str:
    return f"/api/v1/projects/{world.project.id}/runs"


def save_server(app, session, world: World, url: str) -> None:
    with app.app_context():
        mlflow_credentials.save_server(
            session, session.merge(world.owner), base_url=url, now=datetime.now(UTC),
            settings=TrackingSettings.current(),
        )  # fmt: skip
        session.commit()


def test_link_run_and_follow_experiment(
    app, client, session, world: World, mlflow_logged: LoggedMlflow
) -> None:
    """provider "mlflow": a UI link creates the link (201); the id form finds it (200)."""
    ids, url = mlflow_logged.ids, mlflow_logged.url
    save_server(app, session, world, url)
    headers = world.headers("write")
    exp, run = ids["experiment_id"], ids["baseline"]
    created = client.post(
        runs_path(world),
        json={"provider": "mlflow", "ref": f"{url}/#/experiments/{exp}/runs/{run}", "label": "m"},
        headers=headers,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["provider"] == "mlflow" and body["ref"] == f"{exp}/{run}"
    assert body["server"] == url and body["sync_state"] == "queued" and body["label"] == "m"
    again = client.post(
        runs_path(world), json={"provider": "mlflow", "ref": f"{exp}/{run}"}, headers=headers
    )
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    followed = client.post(
        runs_path(world),
        json={"provider": "mlflow", "ref": exp, "kind": "project", "tags": ["portfolio"]},
        headers=headers,
    )
    assert followed.status_code == 201, followed.get_data(as_text=True)
    assert followed.get_json()["kind"] == "project_filter"
    assert followed.get_json()["tags"] == ["portfolio"]
    listed = client.get(runs_path(world), headers=world.headers("read")).get_json()["items"]
    assert {i["provider"] for i in listed} == {"wandb", "mlflow"}
    assert session.get(RunLink, body["id"]).base_url == url


def test_bad_mlflow_links_are_422_and_save_nothing(
    app, client, session, world: World, mlflow_logged: LoggedMlflow
) -> None:
    """Unknown runs and experiments, unsaved servers and bad ids are field errors."""
    headers = world.headers("write")
    ids, url = mlflow_logged.ids, mlflow_logged.url
    first = client.post(
        runs_path(world), json={"provider": "mlflow", "ref": "1/abc"}, headers=headers
    )
    assert first.status_code == 422
    assert "Save your MLflow server" in problem(first)["errors"][0]["message"]
    save_server(app, session, world, url)
    before = snapshot_tables(session)
    for body, words in [
        ({"ref": f"{ids['experiment_id']}/{'0' * 32}"}, "does not exist"),
        ({"ref": "987654", "kind": "project"}, "does not exist"),
        ({"ref": ids["deleted_experiment"], "kind": "project"}, "deleted"),
        ({"ref": f"{ids['experiment_id']}/{ids['deleted']}"}, "deleted"),
        ({"ref": "http://127.0.0.1:9/#/experiments/1/runs/abc"}, "not one of your"),
        ({"ref": "1/<b>"}, "not an MLflow run id"),
    ]:
        response = client.post(
            runs_path(world), json={"provider": "mlflow", **body}, headers=headers
        )
        assert response.status_code == 422, response.get_data(as_text=True)
        error = problem(response)["errors"][0]
        assert error["field"] == "ref" and words in error["message"], error
    assert snapshot_tables(session) == before
