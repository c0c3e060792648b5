"""Real server processes for the deployment tests: gunicorn with gunicorn.conf.py, nginx."""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONF = ROOT / "gunicorn.conf.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    return free_port()


def wait_http(
    url: str,
    *,
    seconds: float = 60,
    proc: subprocess.Popen | None = None,
    context: ssl.SSLContext | None = None,
) -> None:
    """Poll until the URL answers at all (any status), or fail with the process's output."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {_output(proc)}")
        try:
            urllib.request.urlopen(url, timeout=2, context=context).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {seconds} s")


def _output(proc: subprocess.Popen) -> str:
    log = getattr(proc, "log", None)
    if log is None:
        return ""
    log.seek(0)
    return log.read()[-4000:]


@contextmanager
def running(
    cmd: list[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    ready_url: str,
    context: ssl.SSLContext | None = None,
) -> Iterator:
    """Start a server, wait until it answers, and stop it (SIGTERM) afterwards."""
    # A file, not a pipe: a server whose unread pipe fills up would stall.
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT)
        proc.log = log  # type: ignore[attr-defined]
        try:
            wait_http(ready_url, proc=proc, context=context)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def output(proc: subprocess.Popen) -> str:
    """The last lines a server started by running() wrote, for assertion messages."""
    return _output(proc)


# The commands the Dockerfile, compose.yaml and the systemd units run; the tests run
# them with a venv's python (`python -m …`) and test_container_files checks those files.
MIGRATE = ["flask", "--app", "app", "db", "upgrade"]
SERVE = ["gunicorn", "-c", "gunicorn.conf.py", "app:app"]
COLLECT_STATIC = ["python", "-m", "portfolio.static_files"]
SCHEDULER = ["python", "-m", "scheduler"]


def build_wheel(dist: Path) -> Path:
    """Build the project's wheel into ``dist`` as the Dockerfile does and return its path.

    The Dockerfile's build, minus the isolated build env (hatchling is in `test`).
    """
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["-w", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("seasons-*.whl")
    return wheel


def gunicorn_cmd(python: str | Path = sys.executable, *, port: int, workers: int = 2) -> list[str]:
    """SERVE with this repository's gunicorn.conf.py, on a loopback port."""
    conf = SERVE.index("gunicorn.conf.py")
    args = [*SERVE[1:conf], str(GUNICORN_CONF), *SERVE[conf + 1 : -1]]
    bind = ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    return [str(python), "-m", SERVE[0], *args, *bind, SERVE[-1]]


def app_env(**settings: str) -> dict[str, str]:
    """This process's environment less any Seasons settings, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(SCHEDULER_IN_WEB="0", LOG_FORMAT="json", LOG_LEVEL="WARNING")
    env.update(settings)
    return env


def fetch(url: str, headers: Mapping[str, str] | None = None):
    """GET a URL; return (status, headers, body) for any status."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


NGINX_CONF = ROOT / "deploy" / "nginx" / "seasons.conf"
# The shipped values that a loopback run replaces; each must be in the file once.
NGINX_SHIPPED = {
    "listen": "listen 80;",
    "upstream": "server 127.0.0.1:8000;",
    "static": "alias /srv/seasons/static/;",
    "cache": "proxy_cache_path /var/cache/nginx/seasons ",
}


def _with_tls(text: str, port: int, cert: Path, key: Path) -> str:
    """Serve the documented TLS lines instead of plain HTTP, with this cert and key."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#   listen 443") or stripped.startswith("#   ssl_"):
            line = "    " + stripped.removeprefix("#").strip()
            line = line.replace("listen 443 ", f"listen 127.0.0.1:{port} ")
            line = re.sub(r"ssl_certificate (\s*)\S+;", f"ssl_certificate {cert};", line)
            line = re.sub(r"ssl_certificate_key \S+;", f"ssl_certificate_key {key};", line)
        elif stripped == f"listen 127.0.0.1:{port};":
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


def render_nginx(
    prefix: Path,
    *,
    port: int,
    upstream: int,
    static: Path,
    workers: str = "1",
    tls: tuple[Path, Path] | None = None,
) -> Path:
    """Write nginx.conf under prefix: deploy/nginx/seasons.conf on loopback ports.

    Only the listen address, the upstream, the static folder and the cache folder
    change; everything else runs as shipped. nginx runs in the foreground as this
    test's own process (`-p prefix -c nginx.conf`), never as the system service.
    """
    text = NGINX_CONF.read_text()
    swaps = {
        "listen": f"listen 127.0.0.1:{port};",
        "upstream": f"server 127.0.0.1:{upstream};",
        "static": f"alias {static}/;",
        "cache": f"proxy_cache_path {prefix / 'cache'} ",
    }
    for name, shipped in NGINX_SHIPPED.items():
        assert text.count(shipped) == 1, f"{NGINX_CONF} no longer says {shipped!r} once"
        text = text.replace(shipped, swaps[name])
    if tls:
        text = _with_tls(text, port, *tls)
    (prefix / "seasons.conf").write_text(text)
    temp = "\n".join(
        f"  {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi")
    )
    # Started by root (as CI is), nginx drops its workers to `nobody`, who may not
    # enter pytest's private temporary folders; the test's own user runs them instead.
    user = "user root;" if os.geteuid() == 0 else ""
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"""daemon off;
{user}
worker_processes {workers};
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
{temp}
  uwsgi_temp_path {prefix / "uwsgi"};
  scgi_temp_path {prefix / "scgi"};
  include {prefix / "seasons.conf"};
}}
"""
    )
    return conf


def nginx_cmd(prefix: Path, conf: Path) -> list[str]:
    return ["nginx", "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")]
