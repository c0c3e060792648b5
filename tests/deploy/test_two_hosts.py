"""Two web hosts, one PostgreSQL, one Redis, one scheduler: nothing lives on one host's disk.

Two gunicorn servers with separate instance folders stand in for two hosts behind a
load balancer. The browser keeps one cookie jar for both (cookies ignore ports), so a
session made on host A is presented to host B exactly as a proxy would pass it.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from devtools.wandb.fakeserver import FakeRun, FakeWandb
from tests.conftest import CSRF_RE, TEST_PASSWORD

from .procs import app_env, free_port, gunicorn_cmd, running

ROOT = Path(__file__).resolve().parents[2]
LEARNER_KEY = "k" * 40

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL"),
]


class Client:
    """One browser: a cookie jar shared by both hosts, forms posted with their CSRF token."""

    def __init__(self) -> None:
        self.http = requests.Session()

    def get(self, url: str, **kwargs) -> requests.Response:
        return self.http.get(url, timeout=30, **kwargs)

    def post_form(self, form_url: str, action_url: str, data: dict, **kwargs) -> requests.Response:
        token = CSRF_RE.search(self.get(form_url).text).group(1)
        return self.http.post(
            action_url,
            data={**data, "csrf_token": token},
            timeout=60,
            allow_redirects=True,
            **kwargs,
        )


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[dict]:
    """A fresh database, a fake W&B, two gunicorn hosts and the settings a scheduler needs."""
    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"seasons_hosts_{secrets.token_hex(4)}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    fake = FakeWandb(api_key=LEARNER_KEY, default_entity="maya").start()
    fake.add_run(
        FakeRun(
            "maya",
            "houses",
            "run00001",
            display_name="baseline-two-hosts",
            summary={"val_rmse": 0.31},
            history=[{"_step": i, "val_rmse": 1.0 / (i + 1)} for i in range(20)],
        )
    )
    shared = app_env(
        DATABASE_URL=base.set(database=name).render_as_string(hide_password=False),
        REDIS_URL="redis://127.0.0.1:6379/13",
        SECRET_KEY=secrets.token_urlsafe(48),
        CREDENTIALS_KEY=secrets.token_urlsafe(48),
        WANDB_BASE_URL=fake.url,
        WANDB_LINK_CHECK_SECONDS="0.1",
        SIGNUP_RATE_LIMIT="1000 per minute",
        LOGIN_RATE_LIMIT="1000 per minute",
    )
    shared.pop("TEST_DATABASE_URL", None)
    subprocess.run(["redis-cli", "-n", "13", "FLUSHDB"], check=False, capture_output=True)
    try:
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
            cwd=ROOT,
            env={**shared, "INSTANCE_PATH": str(tmp_path / "migrate")},
            check=True,
            capture_output=True,
        )
        with ExitStack() as stack:
            hosts = {}
            for label in ("a", "b"):
                port = free_port()
                hosts[label] = f"http://127.0.0.1:{port}"
                env = {
                    **shared,
                    "INSTANCE_PATH": str(tmp_path / f"host-{label}"),
                    "BASE_URL": hosts[label],
                }
                stack.enter_context(
                    running(
                        gunicorn_cmd(port=port),
                        env=env,
                        cwd=ROOT,
                        ready_url=hosts[label] + "/healthz",
                    )
                )
            yield {
                **hosts,
                "env": {**shared, "INSTANCE_PATH": str(tmp_path / "scheduler")},
                "db": shared["DATABASE_URL"],
                "fake": fake,
            }
    finally:
        fake.stop()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 40, 40)).save(out, format="PNG")
    return out.getvalue()


def test_two_hosts_share_sessions_uploads_keys_and_page_freshness(cluster):
    """Sign up on A, act on B; an image, a W&B key and a cache entry all cross hosts."""
    a, b = cluster["a"], cluster["b"]
    me = Client()

    # Sign up on host A; the same cookie is a valid session on host B.
    me.post_form(
        a + "/signup",
        a + "/signup",
        {
            "email": "maya@example.com",
            "handle": "maya",
            "display_name": "Maya",
            "password": TEST_PASSWORD,
            "timezone": "UTC",
        },
    )
    on_b = me.get(b + "/settings/profile", allow_redirects=False)
    assert on_b.status_code == 200, on_b.status_code
    assert "maya" in on_b.text

    # Plan and publish on B.
    made = me.post_form(
        b + "/projects/new", b + "/projects/new", {"title": "Houses", "summary": "s"}
    )
    slug = made.url.rstrip("/").rsplit("/", 1)[-1]
    page = f"/u/maya/{slug}"
    me.post_form(
        b + page + "/edit",
        b + page + "/edit",
        {"title": "Houses", "slug": slug, "summary": "s", "visibility": "public"},
    )

    # Upload an image on A; host B serves the same bytes.
    png = _png()
    uploaded = me.post_form(
        a + page + "/write-up",
        a + page + "/images",
        {"alt": "A red square"},
        files={"image": ("square.png", png, "image/png")},
    )
    assert uploaded.status_code == 200, uploaded.text[-2000:]
    image_path = re.search(rf"\(({re.escape(page)}/images/[^)\s]+)\)", uploaded.text).group(1)
    from_b = requests.get(b + image_path, timeout=30)
    assert from_b.status_code == 200
    assert Image.open(io.BytesIO(from_b.content)).size == (8, 6)

    # Save a W&B key and link a run on A; a scheduler elsewhere decrypts the key and syncs.
    me.post_form(
        a + "/settings/wandb",
        a + "/settings/wandb",
        {"api_key": LEARNER_KEY, "base_url": cluster["fake"].url},
    )
    me.post_form(a + page + "/runs", a + page + "/runs/link", {"run-ref": "maya/houses/run00001"})
    engine = create_engine(cluster["db"])
    try:
        with engine.connect() as conn:
            links = conn.execute(text("SELECT count(*) FROM run_links")).scalar()
        assert links == 1
        swept = subprocess.run(
            [sys.executable, "-m", "scheduler", "--once"],
            cwd=ROOT,
            env=cluster["env"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert swept.returncode == 0, swept.stderr[-3000:]
        with engine.connect() as conn:
            names = conn.execute(text("SELECT name FROM run_snapshots")).scalars().all()
        assert names == ["baseline-two-hosts"]
    finally:
        engine.dispose()
    assert any(r.authorization for r in cluster["fake"].received), "the learner's key was sent"

    # A public page cached on A is fresh after an edit on B.
    anonymous = requests.Session()
    first = anonymous.get(a + page, timeout=30)
    assert first.status_code == 200 and "Houses" in first.text
    assert "Set-Cookie" not in first.headers
    me.post_form(
        b + page + "/edit",
        b + page + "/edit",
        {"title": "Houses, revisited", "slug": slug, "summary": "s", "visibility": "public"},
    )
    deadline = time.monotonic() + 5
    while "Houses, revisited" not in anonymous.get(a + page, timeout=30).text:
        assert time.monotonic() < deadline, "host A still serves the old page"
        time.sleep(0.2)
