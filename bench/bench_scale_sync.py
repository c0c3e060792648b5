"""Run syncs scale out: one vs two `python -m scheduler` processes against a slow tracker.

Everything runs on 127.0.0.1 and stops by itself:

1. a throwaway PostgreSQL database is created and migrated, with one project and
   ``--links`` W&B run links, all due;
2. the fake W&B server (devtools/wandb/fakeserver.py) answers every GraphQL request
   after ``--latency`` seconds (500 ms by default, like a distant, busy tracker), so a
   sync spends its time waiting, not computing;
3. ``--processes`` scheduler processes (1, then 2) start; after the first sync (the
   processes are warm) the links synced during ``--window`` seconds are counted.

The sync job claims links with ``FOR UPDATE SKIP LOCKED`` leases, so each process syncs
different links and two processes should sync about twice as many per minute.

Usage: .venv/bin/python bench/bench_scale_sync.py [--links 400] [--window 60]
Prints links per minute for each number of processes and the ratio.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.wandb.fakeserver import FakeRun, FakeWandb  # noqa: E402
from portfolio.db import make_engine  # noqa: E402
from portfolio.migrate import upgrade  # noqa: E402
from portfolio.models import Project, RunLink, Season, SyncState, User  # noqa: E402

PY = sys.executable
PG = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
KEY = "k" * 40


def seed(url: str, fake: FakeWandb, links: int) -> None:
    """One learner, one project, ``links`` due run links, each a finished run on the fake."""
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    history = [{"_step": i, "loss": 1 / (i + 1)} for i in range(200)]
    with Session(engine) as s:
        user = User(
            email="bench@example.com", handle="bench", display_name="Bench",
            password_hash="x", login_id="bench",
        )  # fmt: skip
        season = Season(
            slug="2027-q1", title="Q1", starts_on=now.date(), ends_on=now.date(), plan=[]
        )
        s.add_all([user, season])
        s.flush()
        project = Project(
            season_id=season.id, owner_id=user.id, title="Scale", slug="scale", summary=""
        )
        s.add(project)
        s.flush()
        for i in range(links):
            run_id = f"run{i:05d}"
            fake.add_run(FakeRun("bench", "scale", run_id, summary={"loss": 0.1}, history=history))
            s.add(
                RunLink(
                    project_id=project.id, ref=f"bench/scale/{run_id}",
                    created_by_id=user.id, sync_state=SyncState.queued, next_sync_at=now,
                )
            )  # fmt: skip
        s.commit()
    engine.dispose()


def synced_since(engine, since: datetime) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM run_links WHERE last_synced_at >= :t"), {"t": since}
        ).scalar_one()


def measure(processes: int, args: argparse.Namespace, fake: FakeWandb) -> float:
    """Links synced per minute by ``processes`` schedulers, on a fresh database."""
    db = f"seasons_bench_scale_{secrets.token_hex(4)}"
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    url = f"{PG}/{db}"
    tmp = tempfile.mkdtemp(prefix="seasons-bench-scale-")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "CREDENTIALS_KEY": secrets.token_urlsafe(48),
        "INSTANCE_PATH": tmp,
        "SCHEDULER_IN_WEB": "0",
        "LOG_LEVEL": "WARNING",
        "WANDB_BASE_URL": fake.url,
        "WANDB_API_KEY": KEY,
        "WANDB_SYNC_BATCH": str(args.batch),
        "SCHEDULER_QUEUE_SECONDS": "1",  # poll again at once: measure the sync, not the tick
    }
    procs: list[subprocess.Popen] = []
    engine = create_engine(url)
    try:
        seed(url, fake, args.links)
        for i in range(processes):
            log = open(Path(tmp) / f"scheduler-{i}.log", "w")  # noqa: SIM115
            procs.append(
                subprocess.Popen([PY, "-m", "scheduler"], cwd=ROOT, env=env, stdout=log, stderr=log)
            )
        deadline = time.monotonic() + 120
        while synced_since(engine, datetime(2000, 1, 1, tzinfo=UTC)) < processes:
            if time.monotonic() > deadline:
                raise SystemExit(f"no sync within 120 s; see {tmp}")
            time.sleep(0.2)
        start = datetime.now(UTC)
        asked = len(fake.operations())
        time.sleep(args.window)
        done = synced_since(engine, start)
        asked = len(fake.operations()) - asked
        if done >= args.links - processes * args.batch:
            print(f"  warning: {done} synced, close to all {args.links}; use more --links")
        rate = done * 60 / args.window
        print(
            f"{processes} process(es): {done} links in {args.window:.0f} s = {rate:.1f}/min "
            f"({asked} W&B requests, {asked / max(done, 1):.1f} per link)"
        )
        return rate
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.5, help="seconds per W&B answer")
    parser.add_argument("--window", type=float, default=60.0, help="seconds measured")
    parser.add_argument("--batch", type=int, default=10, help="WANDB_SYNC_BATCH")
    args = parser.parse_args()
    with FakeWandb(api_key=KEY, latency=args.latency) as fake:
        print(f"fake W&B at {fake.url}, {args.latency * 1000:.0f} ms per answer")
        one = measure(1, args, fake)
        two = measure(2, args, fake)
    print(f"two / one = {two / one:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
