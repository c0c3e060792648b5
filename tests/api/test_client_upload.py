"""Offline runs through the API and the `seasons` command, and the client wheel the site serves.

The runs are real offline runs written by wandb; the command runs in a subprocess
against the app served on 127.0.0.1; the scheduler's import job does the import.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from seasons_client import SeasonsWarning, upload_run
from sqlmodel import func, select

from portfolio.models import OfflineImport, RunLink, RunSnapshot
from scheduler import jobs

from .conftest import CLIENT_SRC, World, problem, wandb_env, write_offline_runs


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three real offline runs (written once for this module)."""
    root = tmp_path_factory.mktemp("client-runs")
    write_offline_runs(root, "push1", "push2", "push3")
    return root


def run_dirs(root: Path) -> list[Path]:
    return sorted((root / "wandb").glob("offline-run-*-push*"))


def zipped(folder: Path) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path in folder.glob("run-*.wandb"):
            archive.write(path, f"{folder.name}/{path.name}")
    return out.getvalue()


def imports(session) -> int:
    return session.exec(select(func.count()).select_from(OfflineImport)).one()


def upload_path(world: World) -> str:
    return f"/api/v1/projects/{world.project.id}/offline-runs"


def test_api_upload_is_queued_and_its_status_readable(client, session, world, runs_root):
    """202 with the import and its status URL; the status URL answers until it is done."""
    body = zipped(run_dirs(runs_root)[0])
    answer = client.post(
        upload_path(world) + "?label=first", data=body, headers=world.headers("write"),
        content_type="application/zip",
    )  # fmt: skip
    assert answer.status_code == 202, answer.get_json()
    job = answer.get_json()
    assert (job["state"], job["label"], job["size"]) == ("queued", "first", len(body))
    status_path = job["status_url"].split("://", 1)[1].split("/", 1)[1]
    status = client.get("/" + status_path, headers=world.headers("read"))
    assert status.status_code == 200 and status.get_json()["id"] == job["id"]
    assert client.get("/" + status_path, headers=world.headers("other")).status_code == 404


@pytest.mark.parametrize(
    ("token", "body", "status", "words"),
    [
        ("write", b"not a zip", 422, "not a readable .zip"),
        ("write", b"", 422, "not a readable .zip"),
        ("read", b"zip", 403, "write scope"),
        ("revoked", b"zip", 401, "revoked"),
        ("other", b"zip", 404, "no project"),
    ],
)
def test_api_upload_refusals_store_nothing(client, session, world, token, body, status, words):
    answer = client.post(
        upload_path(world), data=body, headers=world.headers(token),
        content_type="application/zip",
    )  # fmt: skip
    assert answer.status_code == status
    assert words in problem(answer)["detail"] + str(problem(answer).get("errors"))
    assert imports(session) == 0


def test_a_zip_without_a_run_file_is_refused(client, session, world):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "hello")
    answer = client.post(
        upload_path(world), data=out.getvalue(), headers=world.headers("write"),
        content_type="application/zip",
    )  # fmt: skip
    assert answer.status_code == 422 and "one W&B offline run" in str(problem(answer))
    assert imports(session) == 0


def test_over_the_size_limit_is_413(app, client, session, world):
    app.config["WANDB_UPLOAD_MAX_BYTES"] = 1000
    answer = client.post(
        upload_path(world), data=b"x" * 5000, headers=world.headers("write"),
        content_type="application/zip",
    )  # fmt: skip
    assert answer.status_code == 413
    assert imports(session) == 0


def seasons(url: str, token: str, *argv: str, root: Path) -> subprocess.CompletedProcess:
    env = wandb_env(root) | {"PYTHONPATH": str(CLIENT_SRC), "XDG_CONFIG_HOME": str(root / "xdg")}
    env |= {k: v for k, v in (("SEASONS_URL", url), ("SEASONS_TOKEN", token)) if v}
    return subprocess.run(
        [sys.executable, "-m", "seasons_client.cli", *argv],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_cli_pushes_three_runs_and_the_job_imports_them(
    app, session, world, fake_wandb, live_url, runs_root
):
    """`seasons push A B C --project slug`: three queued imports, then three runs with metrics."""
    dirs = [str(d) for d in run_dirs(runs_root)]
    done = seasons(live_url, world.tokens["write"], "push", *dirs, "--project", "house-prices",
                   root=runs_root)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("queued as import") == 3 and "[3/3]" in done.stdout
    names = session.exec(select(OfflineImport.filename).order_by(OfflineImport.id)).all()
    assert names == [f"{Path(d).name}.zip" for d in dirs]
    assert jobs.import_offline_runs(app) == {"done": 3}
    session.expire_all()
    for run_id, loss in (("push1", 1.0), ("push2", 0.5), ("push3", 1 / 3)):
        link = session.exec(select(RunLink).where(RunLink.ref == f"maya/houses/{run_id}")).one()
        assert session.get(RunSnapshot, link.current_snapshot_id).summary["loss"] == loss
    status = seasons(live_url, world.tokens["read"], "status", "house-prices", root=runs_root)
    assert status.returncode == 0 and "maya/houses/push2\tsynced" in status.stdout


@pytest.mark.parametrize(
    ("token", "argv", "words"),
    [
        ("write", ["push", "{tmp}", "--project", "house-prices"], "not a W&B offline run folder"),
        ("read", ["push", "{run}", "--project", "house-prices"], "403: This token has no write"),
        ("revoked", ["status", "house-prices"], "401: That token was revoked"),
        ("write", ["push", "{run}", "--project", "nope"], "none of your projects"),
        ("write", ["link", "maya/houses/gone", "--project", "house-prices"], "does not exist"),
    ],
)
def test_cli_refusals_exit_1_with_the_reason(
    session, world, fake_wandb, live_url, runs_root, tmp_path, token, argv, words
):
    argv = [a.format(tmp=tmp_path, run=run_dirs(runs_root)[0]) for a in argv]
    done = seasons(live_url, world.tokens[token], *argv, root=runs_root)
    assert done.returncode == 1 and words in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert imports(session) == 0


def test_cli_links_an_online_run(session, world, fake_wandb, live_url, runs_root):
    done = seasons(live_url, world.tokens["write"], "link", "maya/houses/run2", "--project",
                   "maya/house-prices", root=runs_root)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "linked maya/houses/run2 to maya/house-prices" in done.stdout
    assert session.exec(select(RunLink).where(RunLink.ref == "maya/houses/run2")).one()


def test_the_site_serves_the_client_wheel(client):
    """/client/latest redirects to the source zip; the wheel's RECORD matches its files."""
    latest = client.get("/client/latest")
    assert latest.status_code == 302
    assert latest.headers["Location"].endswith("/client/seasons_client-0.1.0.zip")
    source = client.get(latest.headers["Location"])
    assert source.status_code == 200 and source.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(source.data)) as archive:
        names = {n.removeprefix("seasons_client-0.1.0/") for n in archive.namelist()}
        assert {"pyproject.toml", "seasons_build.py", "seasons_client/_runs.py"} <= names
    location = "/client/seasons_client-0.1.0-py3-none-any.whl"
    wheel = client.get(location)
    assert wheel.status_code == 200 and wheel.mimetype == "application/zip"
    assert client.get(location).data == wheel.data  # deterministic
    with zipfile.ZipFile(io.BytesIO(wheel.data)) as archive:
        names = set(archive.namelist())
        assert {"seasons_client/__init__.py", "seasons_client/cli.py"} <= names
        info = "seasons_client-0.1.0.dist-info"
        assert "Name: seasons-client" in archive.read(f"{info}/METADATA").decode()
        assert b"seasons = seasons_client.cli:main" in archive.read(f"{info}/entry_points.txt")
        for name, digest, size in csv.reader(io.StringIO(archive.read(f"{info}/RECORD").decode())):
            if name.endswith("RECORD"):
                continue
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert (digest, int(size)) == (f"sha256={expected.decode()}", len(data))
    assert client.get("/client/seasons_client-9.9-py3-none-any.whl").status_code == 404


def test_the_client_pyproject_states_what_its_backend_builds():
    """pyproject.toml's [project] and seasons_build.py's constants agree."""
    project = tomllib.loads((CLIENT_SRC / "pyproject.toml").read_text())["project"]
    sys.path.insert(0, str(CLIENT_SRC))
    try:
        import seasons_build
    finally:
        sys.path.remove(str(CLIENT_SRC))
    assert project["name"] == seasons_build.NAME
    assert project["version"] == seasons_build.package_version()
    assert project["description"] == seasons_build.SUMMARY
    assert project["requires-python"] == seasons_build.REQUIRES_PYTHON
    assert project["scripts"] == seasons_build.SCRIPTS and project["dependencies"] == []


def test_cli_login_stores_a_checked_token_for_the_user_alone(world, live_url, tmp_path):
    """`seasons login` checks the token with the site, then later commands need no settings."""
    env_root = tmp_path
    refused = seasons(live_url, "", "login", "--url", live_url, "--token",
                      world.tokens["revoked"], root=env_root)  # fmt: skip
    assert refused.returncode == 1 and "401" in refused.stderr
    config = env_root / "xdg" / "seasons" / "config.json"
    assert not config.exists()
    done = seasons(live_url, "", "login", "--url", live_url, "--token", world.tokens["write"],
                   root=env_root)  # fmt: skip
    assert done.returncode == 0 and "as maya" in done.stdout, done.stderr
    assert config.stat().st_mode & 0o777 == 0o600
    status = seasons("", "", "status", "house-prices", root=env_root)
    assert status.returncode == 0 and "maya/houses/run1\tsynced" in status.stdout, status.stderr


def test_upload_run_over_the_limit_warns_with_the_reason(app, session, world, live_url, runs_root):
    """A run bigger than WANDB_UPLOAD_MAX_BYTES: one warning naming the limit, nothing stored."""
    app.config["WANDB_UPLOAD_MAX_BYTES"] = 100
    with pytest.warns(SeasonsWarning) as caught:
        assert (
            upload_run(run_dirs(runs_root)[0], project="house-prices", url=live_url,
                       token=world.tokens["write"]) is None
        )  # fmt: skip
    assert len(caught) == 1 and "413" in str(caught[0].message)
    assert imports(session) == 0


def test_a_big_upload_cut_off_by_the_site_says_so(app, world, live_url, tmp_path):
    """The site stops reading a body over its limit: the reason names the limit, not a crash."""
    app.config["WANDB_UPLOAD_MAX_BYTES"] = 1000
    folder = tmp_path / "offline-run-20260101_000000-big1"
    folder.mkdir()
    (folder / "run-big1.wandb").write_bytes(os.urandom(20 * 1024 * 1024))
    with pytest.warns(SeasonsWarning) as caught:
        assert upload_run(folder, project="house-prices", url=live_url,
                          token=world.tokens["write"]) is None  # fmt: skip
    assert len(caught) == 1 and "413" in str(caught[0].message), caught[0].message
