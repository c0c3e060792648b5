"""deploy/nginx/seasons.conf in front of gunicorn: static files, micro-cache, bypass, drafts."""

from __future__ import annotations

import gzip
import http.cookiejar
import re
import secrets
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.conftest import CSRF_RE, TEST_PASSWORD
from tests.tls import make_tls_files

from .procs import (
    COLLECT_STATIC,
    app_env,
    free_port,
    gunicorn_cmd,
    nginx_cmd,
    output,
    render_nginx,
    running,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("nginx") is None, reason="run scripts/system-deps.sh"),
]


class Visitor:
    """A browser-like client: keeps cookies, fills in CSRF tokens, sees every status."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str, headers: dict[str, str] | None = None):
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()

    def post_form(self, path: str, data: dict[str, str]) -> int:
        _, _, page = self.get(path)
        token = CSRF_RE.search(page.decode()).group(1)
        body = urllib.parse.urlencode({**data, "csrf_token": token}).encode()
        try:
            with self.opener.open(self.base + path, body, timeout=30) as r:
                return r.status
        except urllib.error.HTTPError as err:
            return err.code

    def log_in(self, email: str) -> None:
        assert self.post_form("/login", {"email": email, "password": TEST_PASSWORD}) == 200
        assert any(c.name == "session" for c in self.jar)


@contextmanager
def proxy_stack(app, database_url, tmp_path, *, tls: tuple[Path, Path] | None = None):
    """gunicorn (gunicorn.conf.py) and nginx (seasons.conf) on loopback; yields nginx's URL."""
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    # The command the Dockerfile and compose.yaml run to give nginx the static files.
    collect = [sys.executable, *COLLECT_STATIC[1:], str(prefix / "static")]
    assert "gzipped" in subprocess.run(collect, check=True, capture_output=True, text=True).stdout
    web, front = free_port(), free_port()
    base = f"{'https' if tls else 'http'}://127.0.0.1:{front}"
    env = app_env(
        DATABASE_URL=database_url,
        SECRET_KEY=app.config["SECRET_KEY"],
        CREDENTIALS_KEY=secrets.token_urlsafe(32),
        INSTANCE_PATH=str(tmp_path / "instance"),
        BASE_URL=base,
        PROXY_COUNT="1",
    )
    conf = render_nginx(prefix, port=front, upstream=web, static=prefix / "static", tls=tls)
    context = ssl.create_default_context(cafile=str(tls[0])) if tls else None
    with ExitStack() as stack:
        web_server = stack.enter_context(
            running(
                gunicorn_cmd(port=web),
                env=env,
                cwd=Path(__file__).resolve().parents[2],
                ready_url=f"http://127.0.0.1:{web}/healthz",
            )
        )
        stack.enter_context(
            running(
                nginx_cmd(prefix, conf),
                env=env,
                cwd=prefix,
                ready_url=base + "/healthz",
                context=context,
            )
        )
        yield base, prefix, context
        # Shown when a test fails.
        print(output(web_server), (prefix / "error.log").read_text()[-3000:])


@pytest.fixture()
def proxied(app, database_url, tmp_path, published):
    with proxy_stack(app, database_url, tmp_path) as (base, prefix, _):
        yield base, prefix


def test_the_documented_tls_lines_serve_https(app, database_url, tmp_path, published):
    """seasons.conf with its TLS lines switched on serves pages over HTTPS, with HSTS."""
    _, project = published
    (tmp_path / "tls").mkdir()
    files = make_tls_files(tmp_path / "tls")
    tls = (files.cert_file, files.key_file)
    with proxy_stack(app, database_url, tmp_path, tls=tls) as (base, _, context):
        assert base.startswith("https://")
        with urllib.request.urlopen(f"{base}/u/maya/{project.slug}", context=context) as r:
            assert r.status == 200 and b"Digit classifier" in r.read()
            assert r.headers["Strict-Transport-Security"].startswith("max-age=")
            assert r.headers["X-Cache-Status"] in ("MISS", "HIT", "EXPIRED")


def test_static_files_come_from_nginx_gzipped_and_cached_for_a_year(proxied, published):
    """Static URLs are versioned; nginx serves the .gz file with a year-long immutable cache."""
    base, prefix = proxied
    _, project = published
    visitor = Visitor(base)
    _, _, page = visitor.get(f"/u/maya/{project.slug}")
    css = re.search(rb'href="(/static/css/site\.css\?v=[0-9a-f]+)"', page).group(1).decode()
    status, headers, body = visitor.get(css, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert gzip.decompress(body) == (prefix / "static" / "css" / "site.css").read_bytes()
    assert body == (prefix / "static" / "css" / "site.css.gz").read_bytes()
    status, headers, body = visitor.get(css)
    assert status == 200 and "Content-Encoding" not in headers and body.startswith(b"/*")


def test_anonymous_pages_come_from_the_micro_cache_and_signed_in_ones_bypass_it(proxied, published):
    """A repeated anonymous request is a cache HIT with no cookie; a signed-in one BYPASSes."""
    base, _ = proxied
    _, project = published
    path = f"/u/maya/{project.slug}"
    anonymous = Visitor(base)
    statuses = []
    for _ in range(3):
        status, headers, body = anonymous.get(path)
        assert status == 200 and "Set-Cookie" not in headers
        assert headers["Cache-Control"] == "public, max-age=0, s-maxage=5"
        statuses.append(headers["X-Cache-Status"])
    assert statuses[0] in ("MISS", "EXPIRED") and statuses[1:] == ["HIT", "HIT"]
    assert b"Digit classifier" in body and b"Log out" not in body
    for other in ("/", "/u/maya", "/seasons"):
        anonymous.get(other)
        assert anonymous.get(other)[1]["X-Cache-Status"] == "HIT", other

    reader = Visitor(base)
    reader.log_in("maya@example.com")
    status, headers, body = reader.get(path)
    assert status == 200 and headers["X-Cache-Status"] == "BYPASS"
    assert b"Log out" in body and "public" not in (headers["Cache-Control"] or "")


def test_a_draft_switch_shows_through_the_proxy_within_five_seconds(proxied, published):
    """After the owner makes the project a draft, strangers get 404 within 5 s."""
    base, _ = proxied
    _, project = published
    path = f"/u/maya/{project.slug}"
    stranger = Visitor(base)
    stranger.get(path)
    assert stranger.get(path)[1]["X-Cache-Status"] == "HIT"

    owner = Visitor(base)
    owner.log_in("maya@example.com")
    edited = owner.post_form(
        path + "/edit",
        {
            "title": project.title,
            "slug": project.slug,
            "summary": "",
            "problem_md": "",
            "repo_url": "",
            "visibility": "draft",
        },
    )
    assert edited == 200
    # The micro-cache keeps a page at most 5 s (s-maxage): the stranger's next
    # requests may still get the cached copy, then the draft is gone for them. The
    # loop only waits; how long nginx keeps the copy is its configuration.
    deadline = time.monotonic() + 60
    while (status := stranger.get(path)[0]) == 200 and time.monotonic() < deadline:
        time.sleep(0.25)
    assert status == 404
    assert owner.get(path)[0] == 200  # the owner still sees the draft, fresh
