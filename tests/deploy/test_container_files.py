"""The Dockerfile, compose.yaml and systemd units name files and commands the tests run.

No container engine or systemd runs here, so these files stay thin wrappers over
commands that tests/deploy/ runs for real (the wheel, migrations, gunicorn with
gunicorn.conf.py, the static files, nginx with seasons.conf); this checks they
have not drifted from them. It does not claim the image builds.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import yaml

from .procs import COLLECT_STATIC, MIGRATE, NGINX_CONF, NGINX_SHIPPED, ROOT, SCHEDULER, SERVE

CONTAINER_BIND = ["--bind", "0.0.0.0:8000"]


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def _served(command: list[str]) -> list[str]:
    """A serve command without its bind address, to compare with SERVE."""
    i = command.index("--bind")
    return command[:i] + command[i + 2 :]


def test_dockerfile_builds_the_wheel_and_serves_it_as_the_tests_do():
    """Two stages on slim Python 3.11, the wheel built then installed, non-root, SERVE."""
    steps = _dockerfile()
    froms = [args for op, args in steps if op == "FROM"]
    assert froms == ["python:3.11-slim AS build", "python:3.11-slim"]
    runs = [args for op, args in steps if op == "RUN"]
    assert any("pip wheel" in r and "--no-deps" in r for r in runs)
    # Installed with the lock file's versions, as `make install` does.
    assert any(
        r.startswith("pip install -c /tmp/dist/requirements.lock /tmp/dist/*.whl") for r in runs
    )
    assert any(shlex.join(COLLECT_STATIC) + " /srv/seasons/static" in r for r in runs)
    (user,) = [args for op, args in steps if op == "USER"]
    assert user not in ("root", "0")
    (cmd,) = [json.loads(args) for op, args in steps if op == "CMD"]
    assert _served(cmd) == SERVE and cmd[cmd.index("--bind") + 1] == "0.0.0.0:8000"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", "instance", ".git"} <= set(ignored)
    for op, args in steps:
        if op == "COPY" and not args.startswith("--from"):
            *sources, _ = args.split()
            for source in sources:
                assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"
                assert source not in ignored, f".dockerignore hides {source}"


def test_compose_runs_the_tested_commands_with_every_needed_setting():
    """web ×2, scheduler, db, redis, nginx; commands equal the tested ones; settings are real."""
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"web", "scheduler", "db", "redis", "nginx", "migrate", "static"} <= set(services)
    web = services["web"]
    assert web["deploy"]["replicas"] == 2
    assert _served(web["command"]) == SERVE
    assert services["migrate"]["command"] == MIGRATE
    assert services["scheduler"]["command"] == SCHEDULER
    assert services["static"]["command"] == [*COLLECT_STATIC, "/srv/seasons/static"]

    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    for name in ("web", "scheduler", "migrate"):
        env = services[name]["environment"]
        for needed in ("SECRET_KEY", "CREDENTIALS_KEY", "DATABASE_URL", "REDIS_URL"):
            assert env.get(needed), (name, needed)
        assert set(env) <= documented, set(env) - documented
        assert env["SCHEDULER_IN_WEB"] == "0" and env["PROXY_COUNT"] == "1"
    assert services["web"]["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")


def test_compose_nginx_uses_the_shipped_config_with_only_the_upstream_swapped():
    """nginx mounts deploy/nginx/seasons.conf and rewrites a line that is really there."""
    nginx = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["nginx"]
    mounts = {v.split(":")[0]: v.split(":")[1] for v in nginx["volumes"]}
    assert mounts == {
        "./deploy/nginx/seasons.conf": "/seasons.conf",
        "static": "/srv/seasons/static",
    }
    assert (ROOT / "deploy/nginx/seasons.conf").resolve() == NGINX_CONF.resolve()
    script = nginx["command"][-1]
    assert f"s/{NGINX_SHIPPED['upstream']}/server web:8000;/" in script
    assert NGINX_SHIPPED["static"] == "alias /srv/seasons/static/;"


def test_systemd_units_run_the_tested_commands():
    """The web unit migrates then serves with gunicorn.conf.py; the scheduler unit schedules."""
    venv = "/srv/seasons/venv/bin/"
    web = (ROOT / "deploy" / "systemd" / "seasons-web.service").read_text()
    start = shlex.split(re.search(r"^ExecStart=(.+)$", web, re.M).group(1))
    assert start[0] == venv + "gunicorn"
    start[0] = "gunicorn"
    start[start.index("-c") + 1] = Path(start[start.index("-c") + 1]).name
    assert _served(start) == SERVE
    pre = shlex.split(re.search(r"^ExecStartPre=(.+)$", web, re.M).group(1))
    assert pre == [venv + MIGRATE[0], *MIGRATE[1:]]
    scheduler = (ROOT / "deploy" / "systemd" / "seasons-scheduler.service").read_text()
    run = shlex.split(re.search(r"^ExecStart=(.+)$", scheduler, re.M).group(1))
    assert run == [venv + "python", *SCHEDULER[1:]]
    for unit in (web, scheduler):
        assert re.search(r"^User=seasons$", unit, re.M) and "EnvironmentFile=" in unit
