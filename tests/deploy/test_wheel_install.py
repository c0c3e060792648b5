"""A non-editable install serves pages: the wheel, a fresh venv, no source tree."""

from __future__ import annotations

import json
import secrets
import site
import subprocess
import sys
from pathlib import Path

import pytest

from .procs import (
    COLLECT_STATIC,
    MIGRATE,
    ROOT,
    app_env,
    build_wheel,
    fetch,
    free_port,
    gunicorn_cmd,
    output,
    running,
)

pytestmark = pytest.mark.slow


def _venv_with_wheel(tmp_path: Path) -> Path:
    """Build the wheel, install it alone into a new venv, and return that venv's python.

    The venv has no pip of its own and borrows the test venv's third-party packages
    through a .pth line (a plain path: the editable install's finder is not loaded), so
    only `portfolio`, `scheduler` and `app` come from the wheel.
    """
    wheel = build_wheel(tmp_path / "dist")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "borrowed-deps.pth").write_text(site.getsitepackages()[0] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps"]
        + [str(wheel)],
        check=True,
        capture_output=True,
    )
    return python


def test_wheel_installed_elsewhere_migrates_and_serves_pages(tmp_path, fresh_engine):
    """Installed from the wheel, outside the source tree, the app migrates and serves pages."""
    python = _venv_with_wheel(tmp_path)
    work = tmp_path / "srv"  # the working directory: no templates/, content/ or app.py here
    work.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import app, portfolio; print(app.__file__, portfolio.__file__)"],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert str(ROOT) not in where and str(tmp_path / "venv") in where

    env = app_env(
        DATABASE_URL=fresh_engine.url.render_as_string(hide_password=False),
        SECRET_KEY=secrets.token_urlsafe(32),
        CREDENTIALS_KEY=secrets.token_urlsafe(32),
        INSTANCE_PATH=str(tmp_path / "instance"),
    )
    migrate = subprocess.run(
        [str(python), "-m", *MIGRATE],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]

    # One sweep of the installed scheduler: its heartbeat is what /readyz waits for.
    sweep = subprocess.run(
        [str(python), "-m", "scheduler", "--once"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert sweep.returncode == 0, sweep.stderr[-3000:]

    # The static files for nginx come from the installed package, not the checkout.
    static = tmp_path / "static"
    subprocess.run([str(python), *COLLECT_STATIC[1:], str(static)], cwd=work, check=True)
    assert (static / "css" / "site.css.gz").is_file() and (static / "favicon.svg").is_file()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running(
        gunicorn_cmd(python, port=port), env=env, cwd=work, ready_url=base + "/healthz"
    ) as server:
        status, _, body = fetch(base + "/readyz")
        ready = json.loads(body)
        assert status == 200, ready
        assert ready["database"] == "ok" and ready["scheduler"] == "ok"
        # Home: a template plus markdown from content/; seasons: the plan in content/.
        status, _, body = fetch(base + "/")
        assert status == 200, output(server)
        assert b"<!doctype html>" in body and b"turns it into a rhythm" in body
        status, _, body = fetch(base + "/seasons")
        assert status == 200 and b"/seasons/" in body, output(server)
        # The training-script client, built from the sources the wheel carries.
        status, _, body = fetch(base + "/client/seasons_client-0.1.0-py3-none-any.whl")
        assert status == 200 and body.startswith(b"PK"), output(server)
        status, headers, body = fetch(base + "/static/css/site.css")
        assert status == 200 and headers["Content-Type"].startswith("text/css") and body
        # gunicorn.conf.py: gunicorn's own log is JSON, in the app's shape.
        lines = [json.loads(line) for line in output(server).splitlines() if line.strip()]
        assert {"time", "level", "logger", "message"} <= set(lines[0])
        assert any(line["logger"] == "gunicorn.error" for line in lines)
