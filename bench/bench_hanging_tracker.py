"""One sync tick with a hanging tracker: do the healthy tracker's links still sync?

Everything runs on 127.0.0.1 in this process and stops by itself:

1. two fake W&B servers (devtools/wandb/fakeserver.py): a healthy one, and a hanging
   one that answers every request after ``--latency`` seconds (60 by default);
2. a fresh database (a SQLite file, or ``--database-url``), migrated, with one project and
   ``--links`` due run links on each server (the learner's key saved for the hanging one);
3. one call of the scheduler job ``sync_due_runs`` (one tick) with the documented defaults
   (WANDB_TIMEOUT=15, WANDB_RETRIES=2, WANDB_SYNC_BATCH=10, SYNC_CONCURRENCY=4,
   SYNC_FETCH_SECONDS=300). The hanging server's links are created first, so the tick's
   first claim is all of them: the worst order for the healthy links.

Prints the outcome counts of the tick, how long it took, when each healthy link was synced
(seconds after the tick started) and the hanging server's pause.

Usage: .venv/bin/python bench/bench_hanging_tracker.py [--links 10] [--latency 60]
       [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.wandb.fakeserver import FakeRun, FakeWandb  # noqa: E402
from portfolio import create_app  # noqa: E402
from portfolio.db import make_engine  # noqa: E402
from portfolio.migrate import upgrade  # noqa: E402
from portfolio.models import (  # noqa: E402
    Project,
    RunLink,
    Season,
    SyncState,
    TrackerHost,
    TrackingCredential,
    User,
)
from portfolio.tracking import credentials  # noqa: E402
from scheduler import jobs  # noqa: E402

KEY = "k" * 40


def seed(app, healthy: FakeWandb, hanging: FakeWandb, links: int) -> None:
    """One learner and project; ``links`` due links on each server."""
    history = [{"_step": i, "loss": 1 / (i + 1)} for i in range(200)]
    now = datetime.now(UTC)
    with app.app_context(), Session(app.extensions["engine"]) as s:
        user = User(
            email="bench@example.com", handle="bench", display_name="Bench",
            password_hash="x", login_id="bench",
        )  # fmt: skip
        season = Season(slug="2027-q1", title="Q1", starts_on=now.date(), ends_on=now.date())
        s.add_all([user, season])
        s.flush()
        project = Project(season_id=season.id, owner_id=user.id, title="Hang", slug="hang")
        s.add(project)
        s.add(
            TrackingCredential(
                user_id=user.id, base_url=hanging.url, last4=KEY[-4:],
                secret_encrypted=credentials.fernet().encrypt(KEY.encode()),
            )
        )  # fmt: skip
        s.flush()
        for name, fake in (("hang", hanging), ("ok", healthy)):
            for i in range(links):
                run_id = f"{name}{i:03d}"  # a project links a ref once, whatever the server
                fake.add_run(FakeRun("bench", "hang", run_id, history=history))
                s.add(
                    RunLink(
                        project_id=project.id, ref=f"bench/hang/{run_id}", base_url=fake.url,
                        created_by_id=user.id, sync_state=SyncState.queued, next_sync_at=now,
                    )
                )  # fmt: skip
        s.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=10, help="links on each server")
    parser.add_argument("--latency", type=float, default=60.0, help="hanging server's delay")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="seasons-bench-hang-")
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    with FakeWandb(api_key=KEY) as healthy, FakeWandb(api_key=KEY, latency=args.latency) as hang:
        app = create_app(
            {
                "DATABASE_URL": url, "INSTANCE_PATH": tmp, "SECRET_KEY": secrets.token_hex(32),
                "CREDENTIALS_KEY": secrets.token_hex(32), "SCHEDULER_IN_WEB": False,
                "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
                "WANDB_BASE_URL": healthy.url, "WANDB_API_KEY": KEY,
            }
        )  # fmt: skip
        seed(app, healthy, hang, args.links)
        started = datetime.now(UTC)
        clock = time.perf_counter()
        outcomes = jobs.sync_due_runs(app)
        tick = time.perf_counter() - clock
        with app.app_context(), Session(app.extensions["engine"]) as s:
            rows = s.exec(select(RunLink).where(RunLink.base_url == healthy.url)).all()
            synced = sorted(
                (r.last_synced_at - started).total_seconds() for r in rows if r.last_synced_at
            )
            host = s.get(TrackerHost, hang.url)
            pause = None if host is None else (host.paused_until - started).total_seconds()
    result = {
        "links_per_server": args.links,
        "hanging_latency_s": args.latency,
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "outcomes": dict(outcomes),
        "tick_s": round(tick, 1),
        "healthy_synced_in_tick": len(synced),
        "healthy_synced_after_s": [round(x, 1) for x in synced],
        "hanging_server_paused_for_s": pause,
    }
    print(json.dumps(result, indent=2))
    return 0 if len(synced) == args.links else 1


if __name__ == "__main__":
    raise SystemExit(main())
