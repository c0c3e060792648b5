"""Which scheduler process runs the singleton jobs: a heartbeat thread holding a lease.

Every scheduler process (`python -m scheduler`, or the embedded one) runs a
``Coordinator``. A daemon thread, independent of APScheduler's job threads so a long
job never delays it, ticks every ``SCHEDULER_TICK_SECONDS``: it takes or renews the
singleton lease (``portfolio/ops/scheduler_state.py``) and writes this process's
heartbeat row with its role. The holder is "active" and runs the singleton jobs; the
others are "standby" and skip them, while all of them run the work-queue jobs. When a
standby takes the lease (the active process died or stopped), ``on_promoted`` runs, so
the new active process catches up with the singleton jobs at once.

A process that cannot reach the database stops counting itself active when its lease
would have run out, which is when a standby may take it: two processes never both
believe they are active (within clock skew, and the dedupe keys make even that harmless).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask

from portfolio.db import session_scope
from portfolio.models import utcnow
from portfolio.ops import scheduler_state

logger = logging.getLogger(__name__)


class Coordinator:
    """Hold (or wait for) the singleton lease and beat for this process."""

    def __init__(
        self,
        app: Flask,
        *,
        tick: float | None = None,
        lease: float | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.app = app
        self.tick_seconds = tick or float(app.config.get("SCHEDULER_TICK_SECONDS", 20))
        self.lease = timedelta(
            seconds=lease or float(app.config.get("SCHEDULER_LEASE_SECONDS", 90))
        )
        self.clock = clock
        self.host = socket.gethostname()[:150]
        self.pid = os.getpid()
        self.process_id = f"{self.host}:{self.pid}:{secrets.token_hex(4)}"
        self.on_promoted: Callable[[], None] | None = None
        self._active_until: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        """Whether this process may run singleton jobs now (its lease has not run out)."""
        until = self._active_until
        return until is not None and self.clock() < until

    @property
    def role(self) -> str:
        return "active" if self.active else "standby"

    def beat(self) -> bool:
        """Take or renew the lease and record the heartbeat; return whether we are active."""
        was_active = self.active
        now = self.clock()
        try:
            with self.app.app_context(), session_scope() as session:
                held = scheduler_state.take_lease(
                    session, holder=self.process_id, now=now, ttl=self.lease
                )
                role = "active" if held else "standby"
                scheduler_state.beat(
                    session, process_id=self.process_id, host=self.host, pid=self.pid,
                    role=role, now=now,
                )  # fmt: skip
                session.commit()
        except Exception:
            # Keep the lease we had until it runs out; a standby takes over after that.
            logger.exception("scheduler heartbeat failed (role %s)", self.role)
            return self.active
        self._active_until = now + self.lease if held else None
        if held and not was_active:
            logger.info("scheduler %s is now active (runs the singleton jobs)", self.process_id)
            if self.on_promoted is not None:
                self.on_promoted()
        elif was_active and not held:
            logger.warning("scheduler %s lost the lease; now standby", self.process_id)
        return held

    def start(self) -> None:
        """Beat every tick in a daemon thread (call ``beat`` once first to know the role)."""
        self._thread = threading.Thread(target=self._run, name="scheduler-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            self.beat()

    def stop(self) -> None:
        """Stop beating, give the lease up and mark this process stopped."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.tick_seconds + 5)
        now = self.clock()
        try:
            with self.app.app_context(), session_scope() as session:
                scheduler_state.release_lease(session, holder=self.process_id, now=now)
                scheduler_state.beat(
                    session, process_id=self.process_id, host=self.host, pid=self.pid,
                    role="stopped", now=now,
                )  # fmt: skip
                session.commit()
        except Exception:
            logger.exception("could not release the scheduler lease; it runs out by itself")
        self._active_until = None
