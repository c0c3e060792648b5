"""Production shape on one machine: PostgreSQL, Redis, gunicorn (4 workers), two schedulers.

Everything runs on 127.0.0.1 and stops by itself:

1. a throwaway PostgreSQL database is created and migrated;
2. gunicorn serves the app with 4 workers (REDIS_URL shares rate limits and caches);
3. learners sign up, plan a project and publish it through HTTP, and each moves a
   milestone to 30 minutes from now (so its "1 day before" reminder is due);
4. two `python -m scheduler --once` processes sweep at the same time;
4. a scheduler is killed (SIGKILL) between claiming its emails and recording them as
   sent: the SMTP server holds its first RCPT until the kill, so nothing was delivered;
5. once its claim (MAIL_LEASE_SECONDS, 3 s here) has lapsed, each project's next
   milestone is moved to 30 minutes from now too (straight in the database), so the
   two schedulers that then sweep at the same moment (bench/sweep_at_once.py: both
   wait on one go-file) race to write the same new reminders (INSERT … ON CONFLICT
   DO NOTHING; without it one sweep fails) and to claim emails (FOR UPDATE SKIP
   LOCKED); their printed start/end times must overlap — the race really happened;
6. checks: every HTTP request succeeded, every expected reminder exists exactly once
   (notification and email), nothing was sent twice (SMTP Message-IDs, on a real
   aiosmtpd server on loopback), nothing was lost.

Usage: .venv/bin/python bench/prod_shape.py [--learners 20]
Exit status 0 when every check passes. tests/test_prod_shape.py runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sweep_at_once import overlapped, race

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PG = os.environ.get("PROD_SHAPE_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class Inbox:
    """An aiosmtpd handler that keeps what it receives and can stall a sender.

    While `stall` is set, the first RCPT of each message waits (and `stalled` is set),
    so the sending scheduler sits between its claim and its commit.
    """

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.stall = threading.Event()
        self.stalled = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        while self.stall.is_set():
            self.stalled.set()
            await asyncio.sleep(0.02)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """A cookie-keeping HTTP client that fills in CSRF tokens like a form would."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.errors: list[str] = []

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as r:
            return r.read().decode()

    def post(self, path: str, data: dict, form_page: str | None = None) -> str:
        token = CSRF.search(self.get(form_page or path)).group(1)
        body = urllib.parse.urlencode({**data, "csrf_token": token}).encode()
        try:
            with self.opener.open(self.base + path, body, timeout=30) as r:
                return r.geturl()
        except urllib.error.HTTPError as err:
            self.errors.append(f"POST {path}: {err.code}")
            return ""


def wait_for(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer in {seconds}s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=20)
    args = parser.parse_args()
    db = f"seasons_prod_{secrets.token_hex(4)}"
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port(), server_hostname="localhost")
    smtp.start()
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="seasons-prod-")
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{db}",
        "REDIS_URL": "redis://127.0.0.1:6379/14",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "CREDENTIALS_KEY": secrets.token_urlsafe(48),
        "INSTANCE_PATH": tmp,
        "BASE_URL": f"http://127.0.0.1:{port}",
        "SCHEDULER_IN_WEB": "0",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_SECURITY": "none",
        "LOG_LEVEL": "WARNING",
        "MAIL_LEASE_SECONDS": "3",
        "SIGNUP_RATE_LIMIT": "1000 per minute",
        "LOGIN_RATE_LIMIT": "1000 per minute",
    }
    procs: list[subprocess.Popen] = []
    failures: list[str] = []
    try:
        subprocess.run(
            [PY, "-m", "flask", "--app", "app", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        subprocess.run(["redis-cli", "-n", "14", "FLUSHDB"], check=False, capture_output=True)
        web = subprocess.Popen(
            [
                PY,
                "-m",
                "gunicorn",
                "-c",
                "gunicorn.conf.py",
                "--workers",
                "4",
                "--bind",
                f"127.0.0.1:{port}",
                "app:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(web)
        wait_for(f"{env['BASE_URL']}/healthz")
        started = time.monotonic()
        errors: list[str] = []
        due_day = datetime.now(UTC) + timedelta(minutes=30)
        for i in range(args.learners):
            b = Browser(env["BASE_URL"])
            handle = f"learner-{i}"
            b.post(
                "/signup",
                {
                    "email": f"{handle}@example.com",
                    "handle": handle,
                    "display_name": f"Learner {i}",
                    "password": "correct horse battery staple",
                    "timezone": "UTC",
                },
            )
            url = b.post("/projects/new", {"title": f"Project {i}", "summary": "s"})
            slug = url.rstrip("/").rsplit("/", 1)[-1]
            page = b.get(f"/u/{handle}/{slug}")
            first = re.search(rf"/u/{handle}/{slug}/milestones/(\d+)\"", page).group(1)
            b.post(
                f"/u/{handle}/{slug}/milestones/{first}",
                {
                    "title": "Proposal",
                    "due_date": due_day.date().isoformat(),
                    "due_time": due_day.strftime("%H:%M"),
                },
            )
            b.post(
                f"/u/{handle}/{slug}/edit",
                {"title": f"Project {i}", "slug": slug, "summary": "s", "visibility": "public"},
                form_page=f"/u/{handle}/{slug}/edit",
            )
            public = urllib.request.urlopen(f"{env['BASE_URL']}/u/{handle}/{slug}", timeout=30)
            if public.status != 200:
                errors.append(f"public page {public.status}")
            errors += b.errors
        http_seconds = time.monotonic() - started

        def scheduler() -> subprocess.Popen:
            return subprocess.Popen(
                [PY, "-m", "scheduler", "--once"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )

        engine = create_engine(env["DATABASE_URL"])

        def reminders_so_far() -> int:
            with engine.connect() as conn:
                return conn.execute(
                    text("SELECT count(*) FROM notifications WHERE dedupe_key LIKE 'reminder:%'")
                ).scalar()

        # Killed between claim and commit: its first email is stuck at RCPT.
        inbox.stall.set()
        victim = scheduler()
        if not inbox.stalled.wait(timeout=180):
            failures.append("the first scheduler never reached the SMTP server")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        inbox.stall.clear()
        at_kill, mailed_at_kill = reminders_so_far(), len(inbox.messages)
        time.sleep(float(env["MAIL_LEASE_SECONDS"]) + 0.5)  # its claim lapses
        # New reminders due, which the killed scheduler never wrote: the pair below
        # both try to write them in the same instant.
        with engine.begin() as conn:
            moved = conn.execute(
                text(
                    "UPDATE milestones SET due_at = :due WHERE id IN (SELECT min(id) "
                    "FROM milestones WHERE due_at > :later GROUP BY project_id)"
                ),
                {"due": due_day, "later": datetime.now(UTC) + timedelta(days=2)},
            ).rowcount
        expected = args.learners + moved
        # Then two at once, as after a restart with an accidental second process.
        gate = Path(tmp) / "gate"
        gate.mkdir()
        pair = race(2, env, gate)
        codes = [sweep.returncode for sweep in pair]
        spans = [sweep.span for sweep in pair if sweep.span]
        raced = len(spans) == 2 and overlapped(spans)
        with engine.connect() as conn:
            keys = (
                conn.execute(
                    text("SELECT dedupe_key FROM notifications WHERE dedupe_key LIKE 'reminder:%'")
                )
                .scalars()
                .all()
            )
            # Reminder emails only: sign-up also mails each learner a verification link.
            deliveries = conn.execute(
                text(
                    "SELECT d.status, count(*) FROM deliveries d "
                    "JOIN notifications n ON n.id = d.notification_id "
                    "WHERE n.dedupe_key LIKE 'reminder:%' GROUP BY d.status"
                )
            ).all()
        engine.dispose()
        ids = Counter()
        for raw in inbox.messages:
            match = re.search(rb"^Message-ID: *(\S+)", raw, re.M | re.I)
            ids[match.group(1) if match else raw[:60]] += 1
        duplicate_keys = [k for k, n in Counter(keys).items() if n > 1]
        resent = [m for m, n in ids.items() if n > 1]
        print(
            f"learners: {args.learners}; HTTP setup {http_seconds:.1f}s; HTTP errors: {len(errors)}"
        )
        print(
            f"killed scheduler had written {at_kill} of {args.learners} reminders "
            f"and mailed {mailed_at_kill}"
        )
        print(f"scheduler exit codes after restart: {codes}; sweeps overlapped: {raced}")
        print(f"next milestones moved for the pair: {moved}")
        print(f"reminder notifications: {len(keys)}; duplicates: {len(duplicate_keys)}")
        print(
            f"deliveries by status: {dict(deliveries)}; emails received: {len(inbox.messages)};"
            f" sent twice: {len(resent)}"
        )
        if errors:
            failures.append(f"HTTP errors: {errors[:5]}")
        if not moved:
            failures.append("no next milestone to move: the pair had nothing to race on")
        if len(keys) != expected:
            failures.append(f"expected {expected} reminders, found {len(keys)}")
        if duplicate_keys or resent:
            failures.append("duplicates found")
        # The killed scheduler's claim lapsed before the pair ran, so every reminder
        # email must have gone out by now: none lost, none left waiting.
        if dict(deliveries).get("sent", 0) != expected:
            failures.append(f"reminder emails not all sent: {dict(deliveries)}")
        if any(codes):
            failures.append(
                f"a scheduler failed: {codes} {[sweep.stderr[-500:] for sweep in pair]}"
            )
        if not raced:
            failures.append(f"the two sweeps did not overlap: {spans}")
        if mailed_at_kill:
            failures.append(f"the killed scheduler delivered {mailed_at_kill} emails")
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=30)
        smtp.stop()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()
    print("OK" if not failures else "FAILED: " + "; ".join(failures))
    return 0 if not failures else 1


if __name__ == "__main__":
    raise SystemExit(main())
