"""A real ``mlflow server`` on loopback (SQLite backend), started once per test session.

MLflow lives in its own virtual environment, ``.venv-mlflow`` (``make test`` and
``make dev-mlflow`` create it), so its pinned Flask/SQLAlchemy never meet the app's. Without
it the MLflow tests are skipped with the reason, except in CI (``CI=true``), where a
missing MLflow is a failure: CI must never pass by not testing.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
MLFLOW_VENV = ROOT / ".venv-mlflow"
MLFLOW_BIN = MLFLOW_VENV / "bin" / "mlflow"
START_SECONDS = 180  # a cold start (database migrations) on a busy 2-core machine
ADMIN = ("admin", "seasons-admin-password-1")
READER = ("reader", "seasons-reader-password-1")


@dataclass
class MlflowServer:
    """A running ``mlflow server`` process and its address."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """Stop the server process (and its workers, which share its process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=10)


def require_mlflow() -> Path:
    """Return the mlflow executable; skip (fail in CI) when .venv-mlflow is missing."""
    if MLFLOW_BIN.exists():
        return MLFLOW_BIN
    reason = f"MLflow is not installed in {MLFLOW_VENV}: run `make dev-mlflow` (or `make test`)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason + "; in CI the MLflow tests must run.")
    pytest.skip(reason)


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(
        MLFLOW_DISABLE_TELEMETRY="true",  # no network at run time
        # MLflow 3 starts a job runner and seven huey consumers (~230 MB each) by default;
        # reading runs needs none of them
        MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false",
        DO_NOT_TRACK="true",
        HOME=str(root),  # keeps ~/.mlflow and friends inside the temp dir
        NO_PROXY="127.0.0.1,localhost",
    )
    env.pop("VIRTUAL_ENV", None)
    return env


def start_server(root: Path, *, auth: bool = False) -> MlflowServer:
    """Start ``mlflow server`` on a free port with a SQLite store under ``root``."""
    mlflow = require_mlflow()
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = _env(root)
    args = [
        str(mlflow), "server", "--host", "127.0.0.1", "--port", str(port),
        "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
        "--default-artifact-root", str(root / "artifacts"), "--workers", "1",
    ]  # fmt: skip
    if auth:
        ini = root / "auth.ini"
        ini.write_text(
            "[mlflow]\ndefault_permission = NO_PERMISSIONS\n"
            f"database_uri = sqlite:///{root / 'auth.db'}\n"
            f"admin_username = {ADMIN[0]}\nadmin_password = {ADMIN[1]}\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        )
        env["MLFLOW_AUTH_CONFIG_PATH"] = str(ini)
        env["MLFLOW_FLASK_SERVER_SECRET_KEY"] = "seasons-test-secret"
        args += ["--app-name", "basic-auth"]
    log = root / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            args, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = MlflowServer(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited: {log.read_text()[-3000:]}")
        try:
            if requests.get(server.url + "/health", timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"mlflow server did not start: {log.read_text()[-3000:]}")


def log_runs(
    url: str, root: Path, env: dict[str, str] | None = None, *, only_baseline: bool = False
) -> dict[str, Any]:
    """Log the test runs with the real mlflow client; return their ids."""
    python = MLFLOW_VENV / "bin" / "python"
    script = Path(__file__).with_name("make_mlflow_runs.py")
    done = subprocess.run(
        [str(python), str(script), url, *(["--only-baseline"] if only_baseline else [])],
        capture_output=True, text=True, env={**_env(root), **(env or {})}, timeout=600,
        check=False, cwd=root,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@dataclass(frozen=True)
class LoggedMlflow:
    """The session's server and the ids of the runs logged into it."""

    url: str
    ids: dict[str, Any]


@pytest.fixture(scope="session")
def mlflow_logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoggedMlflow]:
    """A real MLflow server with the test runs logged by the real client (once per session)."""
    root = tmp_path_factory.mktemp("mlflow")
    server = start_server(root)
    try:
        yield LoggedMlflow(server.url, log_runs(server.url, root))
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mlflow_auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoggedMlflow]:
    """A real MLflow server with basic auth: an admin, and a reader with no permissions."""
    root = tmp_path_factory.mktemp("mlflow-auth")
    server = start_server(root, auth=True)
    try:
        created = requests.post(
            server.url + "/api/2.0/mlflow/users/create",
            json={"username": READER[0], "password": READER[1]},
            auth=ADMIN,
            timeout=30,
        )
        assert created.status_code == 200, created.text
        auth_env = {"MLFLOW_TRACKING_USERNAME": ADMIN[0], "MLFLOW_TRACKING_PASSWORD": ADMIN[1]}
        yield LoggedMlflow(server.url, log_runs(server.url, root, auth_env, only_baseline=True))
    finally:
        server.stop()
