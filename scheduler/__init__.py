"""APScheduler wiring: every periodic job of Seasons, in one list.

Jobs call portfolio services (scheduler → services, never the reverse).
Production runs `python -m scheduler` (a BlockingScheduler) as its own
process; the embedded default runs a BackgroundScheduler inside the
development server. Job stores live in memory: APScheduler cannot share
one between processes, and our dedupe keys and row locks already make an
accidental second scheduler harmless.
"""

from __future__ import annotations

import atexit
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from flask.helpers import get_debug_flag
from werkzeug.serving import is_running_from_reloader

from . import jobs

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSpec:
    """One periodic job: a fixed id, the function, its trigger and how late it may run."""

    id: str
    func: Callable[[Flask], Any]
    trigger: str
    trigger_args: dict[str, Any] = field(default_factory=dict)
    # A run that could not start on time (process busy, laptop asleep) still
    # runs if it is at most this many seconds late; coalesce folds the rest.
    misfire_grace_time: int = 60


# In catch-up order: seasons first, reminders before the outbox sends them.
JOBS: list[JobSpec] = [
    JobSpec("season_rollover", jobs.season_rollover, "cron", {"hour": 0, "minute": 5}, 6 * 3600),
    JobSpec("queue_reminders", jobs.queue_reminders, "interval", {"minutes": 5}, 5 * 60),
    JobSpec("deliver_emails", jobs.deliver_emails, "interval", {"minutes": 1}, 60),
    # W&B run links that are due ("Sync now" first), at most WANDB_SYNC_BATCH per tick.
    JobSpec("sync_due_runs", jobs.sync_due_runs, "interval", {"minutes": 1}, 60),
    # Hourly: each mentor's Monday 08:00 comes at a different UTC hour.
    JobSpec("mentor_digest", jobs.mentor_digest, "cron", {"minute": 2}, 30 * 60),
    JobSpec("flag_stale_feedback", jobs.flag_stale_feedback, "cron", {"minute": 17}, 30 * 60),
]


def build_scheduler(app: Flask, blocking: bool = False, *, catch_up: bool = False) -> BaseScheduler:
    """A scheduler (not started) with every job of JOBS bound to `app`.

    With `catch_up`, each job also runs once as soon as the scheduler starts.
    """
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        timezone=UTC,
        jobstores={"default": {"type": "memory"}},
        job_defaults={"coalesce": True, "max_instances": 1},
    )
    now = datetime.now(UTC)
    for spec in JOBS:
        options: dict[str, Any] = {"next_run_time": now} if catch_up else {}
        scheduler.add_job(
            spec.func,
            spec.trigger,
            args=[app],
            id=spec.id,
            name=spec.id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=spec.misfire_grace_time,
            **spec.trigger_args,
            **options,
        )
    return scheduler


def run_all(app: Flask) -> dict[str, bool]:
    """Run every job once, in order, now: a restarted scheduler catches up this way.

    A failing job is logged and does not stop the others; returns which succeeded.
    """
    results = {}
    for spec in JOBS:
        try:
            spec.func(app)
        except Exception:
            logger.exception("catch-up run of %s failed", spec.id)
            results[spec.id] = False
        else:
            results[spec.id] = True
    return results


def should_start_in_web(app: Flask) -> bool:
    """Whether this web process should run the embedded scheduler.

    Only the process that serves `flask run` (the reloader's child, not its
    watcher parent, so it starts once); in gunicorn only when
    SCHEDULER_IN_GUNICORN says so; never in tests or other commands.
    """
    if not app.config.get("SCHEDULER_IN_WEB") or app.testing:
        return False
    if "gunicorn" in sys.modules:
        return bool(app.config.get("SCHEDULER_IN_GUNICORN"))
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.info_name != "run":
        return False
    reload = ctx.params.get("reload")
    if reload is None:
        reload = get_debug_flag()
    return not reload or is_running_from_reloader()


def start_in_web(app: Flask) -> BaseScheduler | None:
    """Start the embedded BackgroundScheduler when `should_start_in_web` says so."""
    if not should_start_in_web(app):
        return None
    scheduler = build_scheduler(app, blocking=False, catch_up=True)
    scheduler.start()
    atexit.register(lambda: scheduler.shutdown(wait=False) if scheduler.running else None)
    logger.info("embedded scheduler started with %d jobs", len(JOBS))
    return scheduler
