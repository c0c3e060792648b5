"""MLflow through the web UI and the scheduler job, against a real ``mlflow server``.

A learner saves their MLflow server, links a run and follows an experiment by tag; the sync
job fetches them; the public page shows MLflow runs next to W&B runs, source named, with
the same comparison (diff-only params) and charts. Faults keep the last good snapshot and
tell members only.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest
import requests
from sqlmodel import select

from portfolio.models import (
    RunLink,
    RunSnapshot,
    SyncState,
    TrackingCredential,
    User,
    Visibility,
)
from portfolio.tracking import mlflow_credentials
from portfolio.tracking.settings import TrackingSettings
from scheduler import jobs
from tests.conftest import csrf_token

from .mlflow_fixtures import ADMIN, LoggedMlflow, free_port


@pytest.fixture
def pages(app, session, make_user, make_project, login_as):
    """lena, logged in, with a public project; (client, project URL, runs page URL, project)."""
    learner = make_user("lena")
    project = make_project(learner, title="Digits")
    project.visibility = Visibility.public
    project.headline_metric = "loss"
    project.headline_goal = "min"
    session.add(project)
    session.commit()
    base = f"/u/lena/{project.slug}"
    return login_as(learner), base, f"{base}/runs", project


def post(client, url: str, data: dict, *, prefix: str = "", page: str) -> requests.Response:
    """POST a form with a CSRF token read from ``page``, as a browser would."""
    name = f"{prefix}-csrf_token" if prefix else "csrf_token"
    return client.post(url, data={**data, name: csrf_token(client, page)})


def save_server(client, url: str, **auth: str):
    """Save an MLflow server through the settings page."""
    return post(client, "/settings/mlflow", {"base_url": url, **auth}, page="/settings/mlflow")


def link_and_sync(app, session, pages, ref: str) -> tuple[RunLink, int | None]:
    """Link a run through the page, sync it; return the link and its good snapshot id."""
    client, _, manage, project = pages
    linked = post(client, f"{manage}/mlflow/link", {"mlrun-ref": ref}, prefix="mlrun", page=manage)
    assert linked.status_code == 303, linked.get_data(as_text=True)
    assert jobs.sync_due_runs(app) == {"synced": 1}
    (link,) = links_of(session, project)
    assert link.current_snapshot_id is not None
    return link, link.current_snapshot_id


def sync_again(app, session, link: RunLink) -> Counter:
    """Make the link due and run the sync job once."""
    link = session.get(RunLink, link.id)
    link.next_sync_at = datetime(2000, 1, 1, tzinfo=UTC)
    session.add(link)
    session.commit()
    return jobs.sync_due_runs(app)


def links_of(session, project) -> list[RunLink]:
    session.expire_all()
    return list(session.exec(select(RunLink).where(RunLink.project_id == project.id)))


def test_link_follow_sync_and_show_next_to_wandb(
    app, session, pages, make_run, mlflow_logged: LoggedMlflow
) -> None:
    """The whole MLflow path through the pages, ending on the public page beside a W&B run."""
    client, project_url, manage, project = pages
    ids, url = mlflow_logged.ids, mlflow_logged.url
    exp = ids["experiment_id"]
    saved = save_server(client, url + "/")
    assert saved.status_code == 303, saved.get_data(as_text=True)
    assert url in client.get("/settings/mlflow").get_data(as_text=True)

    refused = post(
        client, f"{manage}/mlflow/link", {"mlrun-ref": f"{exp}/{'0' * 32}"},
        prefix="mlrun", page=manage,
    )  # fmt: skip
    assert refused.status_code == 422 and "does not exist" in refused.get_data(as_text=True)
    linked = post(
        client, f"{manage}/mlflow/link",
        {"mlrun-ref": f"{url}/#/experiments/{exp}/runs/{ids['baseline']}/model-metrics"},
        prefix="mlrun", page=manage,
    )  # fmt: skip
    assert linked.status_code == 303, linked.get_data(as_text=True)
    followed = post(
        client, f"{manage}/mlflow/follow",
        {"mlexp-ref": f"{url}/#/experiments/{exp}", "mlexp-tags": "portfolio"},
        prefix="mlexp", page=manage,
    )  # fmt: skip
    assert followed.status_code == 303, followed.get_data(as_text=True)
    wandb_run = make_run(
        project, name="wandb baseline", summary={"loss": 0.5}, config={"lr": 0.3, "batch": 32},
        series={"loss": [(0, 1.0), (1, 0.5)]}, started=datetime(2020, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    wandb_run.next_sync_at = datetime(2100, 1, 1, tzinfo=UTC)  # as if synced: not due
    session.add(wandb_run)
    session.commit()

    outcome = jobs.sync_due_runs(app)
    assert outcome["synced"] >= 2 and not outcome.get("error"), outcome
    jobs.sync_due_runs(app)  # the runs the experiment link found
    links = links_of(session, project)
    by_ref = {link.ref: link for link in links}
    assert f"{exp}/{ids['baseline']}" in by_ref and f"{exp}/{ids['nan']}" in by_ref
    assert f"{exp}/{ids['untagged']}" not in by_ref  # no portfolio tag
    assert all(link.sync_state == SyncState.synced for link in links), [
        (link.ref, link.last_error) for link in links
    ]
    assert {link.provider for link in links} == {"mlflow", "wandb"}

    page = client.get(manage).get_data(as_text=True)
    assert "MLflow experiment" in page and "synced just now" in page
    client.post("/logout", data={"csrf_token": csrf_token(client, project_url)})
    public = client.get(project_url).get_data(as_text=True)
    assert "(MLflow)" in public and "(W&amp;B)" in public  # both sources, named
    assert "Runs on MLflow:" in public and "Runs on Weights &amp; Biases:" in public
    assert "&lt;b&gt;baseline&lt;/b&gt; run" in public and "<b>baseline</b>" not in public
    assert "<script>alert" not in public and "<img src=x" not in public
    assert '<th scope="col" class="hp">lr</th>' in public  # differs between runs
    assert '<th scope="col" class="hp">batch</th>' not in public  # 32 everywhere: hidden
    assert 'class="chart"' in public
    every = client.get(f"{project_url}?config=all").get_data(as_text=True)
    assert "html value" in every and "&lt;script&gt;alert" in every
    api = client.get(f"/api/v1/public/projects/lena/{project.slug}").get_json()
    assert {r["source"] for r in api["runs"]} == {"MLflow", "W&B"}


def test_deleted_run_keeps_the_last_snapshot_and_tells_members_only(
    app, session, pages, mlflow_logged: LoggedMlflow
) -> None:
    """Deleted in MLflow after a good sync: the results stay, members see why."""
    client, project_url, manage, project = pages
    ids, url = mlflow_logged.ids, mlflow_logged.url
    assert save_server(client, url).status_code == 303
    ref = f"{ids['experiment_id']}/{ids['to_delete']}"
    link, good = link_and_sync(app, session, pages, ref)
    deleted = requests.post(
        f"{url}/api/2.0/mlflow/runs/delete", json={"run_id": ids["to_delete"]}, timeout=30
    )
    assert deleted.status_code == 200
    assert sync_again(app, session, link) == {"error": 1}
    (link,) = links_of(session, project)
    assert link.current_snapshot_id == good and link.sync_state == SyncState.error
    assert "deleted" in link.last_error
    assert session.get(RunSnapshot, good) is not None
    assert "was deleted" in client.get(manage).get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, project_url)})
    public = client.get(project_url).get_data(as_text=True)
    assert "deleted later" in public and "was deleted" not in public


def test_unreachable_server_is_saved_unchecked_and_sync_fails_softly(
    app, session, pages, mlflow_logged: LoggedMlflow
) -> None:
    """A server that is down: saved with a note; links by id are refused only if refused."""
    client, _, manage, project = pages
    dead = f"http://127.0.0.1:{free_port()}"
    saved = save_server(client, dead)
    assert saved.status_code == 303
    assert "could not be checked" in client.get(saved.location).get_data(as_text=True)
    linked = post(
        client, f"{manage}/mlflow/link", {"mlrun-ref": f"{dead}/#/experiments/1/runs/{'a' * 32}"},
        prefix="mlrun", page=manage,
    )  # fmt: skip
    assert linked.status_code == 303  # queued: the server may come back
    assert jobs.sync_due_runs(app) == {"error": 1}
    (link,) = links_of(session, project)
    assert "could not be reached" in link.last_error and dead.split("//")[1] in link.last_error
    assert link.current_snapshot_id is None


def test_refused_credentials_save_nothing_and_later_401_keeps_results(
    app, session, pages, mlflow_auth_server: LoggedMlflow
) -> None:
    """basic-auth server: a wrong password is refused when saving; a revoked one later
    turns the sync into a clear error that keeps the last good snapshot."""
    client, _, manage, project = pages
    ids, url = mlflow_auth_server.ids, mlflow_auth_server.url
    wrong = save_server(client, url, username="admin", password="wrong")
    assert wrong.status_code == 422 and "HTTP 401" in wrong.get_data(as_text=True)
    assert session.exec(select(TrackingCredential)).all() == []
    assert save_server(client, url, username=ADMIN[0], password=ADMIN[1]).status_code == 303
    ref = f"{ids['experiment_id']}/{ids['baseline']}"
    link, good = link_and_sync(app, session, pages, ref)
    with app.app_context():  # the password changes on the server; the saved one is stale
        mlflow_credentials.save_server(
            session, session.get(User, link.created_by_id), base_url=url, username="admin",
            password="stale", now=datetime.now(UTC),
            settings=TrackingSettings.current(), verify=False,
        )  # fmt: skip
        session.commit()
    assert sync_again(app, session, link) == {"error": 1}
    (link,) = links_of(session, project)
    assert link.current_snapshot_id == good and "HTTP 401" in link.last_error


def test_saved_auth_is_encrypted_and_never_shown(app, session, pages, mlflow_logged) -> None:
    """The token is stored encrypted (not in clear), and the page shows only its last 4."""
    client, _, _, _ = pages
    token = "tok-" + "s3cret" * 5
    assert save_server(client, mlflow_logged.url, token=token).status_code == 303
    (cred,) = session.exec(select(TrackingCredential)).all()
    assert cred.provider == "mlflow" and token.encode() not in cred.secret_encrypted
    page = client.get("/settings/mlflow").get_data(as_text=True)
    assert token not in page and f"…{token[-4:]}" in page
    with app.app_context():
        source = mlflow_credentials.resolve(session, user_id=cred.user_id, base_url=cred.base_url)
    assert json.loads(source.api_key or "") == {"token": token}
    assert "MLflow" not in client.get("/settings/wandb").get_data(as_text=True).split("<h2")[1][:80]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("http://elsewhere.example:5000/#/experiments/1/runs/" + "a" * 32, "not one of your"),
        ("1", "not a run"),
        ("x/y", "not an MLflow experiment id"),
        ("1/<script>", "not an MLflow run id"),
    ],
)
def test_bad_links_are_clear_422s(
    session, pages, mlflow_logged: LoggedMlflow, ref: str, message: str
) -> None:
    """Every bad paste is refused with the reason, escaped, and saves nothing."""
    client, _, manage, project = pages
    assert save_server(client, mlflow_logged.url).status_code == 303
    response = post(
        client, f"{manage}/mlflow/link", {"mlrun-ref": ref}, prefix="mlrun", page=manage
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and message in body and "<script>" not in body
    assert links_of(session, project) == []


def test_link_without_a_saved_server_says_what_to_do(session, pages) -> None:
    client, _, manage, project = pages
    response = post(
        client, f"{manage}/mlflow/link", {"mlrun-ref": "1/abc"}, prefix="mlrun", page=manage
    )
    assert response.status_code == 422
    assert "Save your MLflow server" in response.get_data(as_text=True)
    assert links_of(session, project) == []
