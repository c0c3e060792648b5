"""APScheduler wiring: every periodic job of Seasons, in one list.

Jobs call portfolio services (scheduler → services, never the reverse). Two kinds:

- **singleton** jobs (season rollover, queueing reminders and digests, milestone
  freezes, stale-feedback flags) sweep the whole database; they run on the one process
  that holds the lease (``coordinator.py``), and a standby takes over when it dies;
- **work-queue** jobs (email delivery, run syncs, offline imports) run on every
  scheduler process and claim rows with leases (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL), so each process added adds throughput.

Production runs one or more `python -m scheduler` (BlockingScheduler) processes; the
embedded default runs a BackgroundScheduler inside the development server. Job stores
live in memory: APScheduler cannot share one between processes, and the lease, the
claims and the dedupe keys coordinate them instead.
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
from .coordinator import Coordinator

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
    # Runs only on the process holding the lease (a sweep), else on every process (a queue).
    singleton: bool = True
    # A setting (seconds) that replaces the interval: queue polls are configurable.
    interval_setting: str | None = None


def queue_job(id: str, func: Callable[[Flask], Any], setting: str, seconds: int) -> JobSpec:
    """A work-queue job: every process polls it every `setting` seconds (default `seconds`)."""
    trigger_args = {"seconds": seconds}
    return JobSpec(
        id, func, "interval", trigger_args, 60, singleton=False, interval_setting=setting
    )


# In catch-up order: seasons first, reminders before the outbox sends them.
JOBS: list[JobSpec] = [
    JobSpec("season_rollover", jobs.season_rollover, "cron", {"hour": 0, "minute": 5}, 6 * 3600),
    JobSpec("queue_reminders", jobs.queue_reminders, "interval", {"minutes": 5}, 5 * 60),
    # Open milestones that came due keep what the project showed then (idempotent).
    JobSpec("freeze_due_milestones", jobs.freeze_due_milestones, "interval", {"minutes": 10}, 600),
    # Hourly: each mentor's Monday 08:00 comes at a different UTC hour.
    JobSpec("mentor_digest", jobs.mentor_digest, "cron", {"minute": 2}, 30 * 60),
    JobSpec("flag_stale_feedback", jobs.flag_stale_feedback, "cron", {"minute": 17}, 30 * 60),
    # Work queues, polled by every process.
    queue_job("deliver_emails", jobs.deliver_emails, "SCHEDULER_QUEUE_SECONDS", 60),
    # W&B run links that are due ("Sync now" first), at most WANDB_SYNC_BATCH per tick.
    queue_job("sync_due_runs", jobs.sync_due_runs, "SCHEDULER_QUEUE_SECONDS", 60),
    queue_job("import_offline_runs", jobs.import_offline_runs, "SCHEDULER_IMPORT_SECONDS", 10),
]


class _Guarded:
    """A singleton job that does nothing on a standby process."""

    def __init__(self, spec: JobSpec, coordinator: Coordinator) -> None:
        self.spec = spec
        self.coordinator = coordinator

    def __call__(self, app: Flask) -> Any:
        if not self.coordinator.active:
            logger.debug("standby: %s runs on the active scheduler", self.spec.id)
            return None
        return self.spec.func(app)


def build_scheduler(
    app: Flask,
    blocking: bool = False,
    *,
    catch_up: bool = False,
    coordinator: Coordinator | None = None,
) -> BaseScheduler:
    """A scheduler (not started) with every job of JOBS bound to `app`.

    With `catch_up`, each job also runs once as soon as the scheduler starts. With a
    `coordinator`, singleton jobs run only while it holds the lease, and a promotion
    runs them at once.
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
        trigger_args = spec.trigger_args
        if spec.interval_setting and app.config.get(spec.interval_setting):
            trigger_args = {"seconds": float(app.config[spec.interval_setting])}
        func: Callable[[Flask], Any] = spec.func
        if spec.singleton and coordinator is not None:
            func = _Guarded(spec, coordinator)
        scheduler.add_job(
            func,
            spec.trigger,
            args=[app],
            id=spec.id,
            name=spec.id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=spec.misfire_grace_time,
            **trigger_args,
            **options,
        )
    if coordinator is not None:
        coordinator.on_promoted = lambda: _catch_up_singletons(scheduler, app, coordinator)
    return scheduler


def _catch_up_singletons(scheduler: BaseScheduler, app: Flask, coordinator: Coordinator) -> None:
    """Newly active: run the singleton jobs once now, in order, on a job thread."""
    scheduler.add_job(
        run_all,
        args=[app],
        kwargs={"coordinator": coordinator, "queues": False},
        id="promotion_catch_up",
        name="promotion_catch_up",
        replace_existing=True,
        misfire_grace_time=None,
    )


def run_all(
    app: Flask, *, coordinator: Coordinator | None = None, queues: bool = True
) -> dict[str, bool]:
    """Run every job once, in order, now: a restarted scheduler catches up this way.

    Singleton jobs are skipped unless `coordinator` is active (or there is none); with
    `queues` False only singleton jobs run. A failing job is logged and does not stop
    the others; returns which succeeded (skipped jobs are left out).
    """
    results = {}
    for spec in JOBS:
        if spec.singleton and coordinator is not None and not coordinator.active:
            continue
        if not spec.singleton and not queues:
            continue
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
    coordinator = Coordinator(app)
    coordinator.beat()
    scheduler = build_scheduler(app, blocking=False, catch_up=True, coordinator=coordinator)
    scheduler.start()
    coordinator.start()

    def _stop() -> None:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        coordinator.stop()

    atexit.register(_stop)
    app.extensions["scheduler_stop"] = _stop
    logger.info("embedded scheduler started with %d jobs (%s)", len(JOBS), coordinator.role)
    return scheduler
