"""Readiness: can this host do its work? The database, Redis when configured, the scheduler.

Liveness (/healthz) asks nothing of anyone: a process that answers is alive, and a
load balancer must not restart web workers because the database blinked. Readiness
(/readyz) checks each dependency with a short timeout and names the one that failed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import redis
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from . import scheduler_state

logger = logging.getLogger(__name__)

CHECKS = ("database", "redis", "scheduler")
REDIS_TIMEOUT = 2.0  # seconds; a readiness probe must answer well inside the prober's timeout


@dataclass
class Readiness:
    """The outcome of each check ("ok", "not configured" or what is wrong) and details."""

    results: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        return [name for name, result in self.results.items() if result not in OK]

    def as_json(self) -> dict[str, Any]:
        status = "error" if self.failed else "ok"
        return {"status": status, **self.results, **self.details, "failed": self.failed}


OK = frozenset({"ok", "not configured"})


def check(
    engine: Engine,
    config: Mapping[str, Any],
    *,
    now: datetime,
    only: Iterable[str] = CHECKS,
) -> Readiness:
    """Run the readiness checks named in ``only`` (all by default)."""
    only = set(only)
    out = Readiness()
    database_ok = True
    if "database" in only or "scheduler" in only:
        database_ok = _database(engine)
        if "database" in only:
            out.results["database"] = "ok" if database_ok else "unreachable"
    if "redis" in only:
        out.results["redis"] = _redis(config.get("REDIS_URL"))
    if "scheduler" in only:
        if not database_ok:
            out.results["scheduler"] = "unknown (database unreachable)"
        else:
            limit = timedelta(seconds=config.get("SCHEDULER_STALE_SECONDS", 600))
            out.results["scheduler"], out.details["scheduler_last_beat"] = _scheduler(
                engine, now, limit
            )
    return out


def _database(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        logger.exception("readiness: database unreachable")
        return False
    return True


def _redis(url: str | None) -> str:
    if not url:
        return "not configured"
    client = redis.Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        logger.warning("readiness: redis unreachable: %s", exc)
        return "unreachable"
    finally:
        client.close()
    return "ok"


def _scheduler(engine: Engine, now: datetime, limit: timedelta) -> tuple[str, str | None]:
    try:
        with Session(engine) as session:
            beat = scheduler_state.last_beat(session)
    except SQLAlchemyError:  # e.g. migrations not applied yet
        logger.exception("readiness: scheduler heartbeat unreadable")
        return "unknown (heartbeat unreadable)", None
    if beat is None:
        return "never seen", None
    if now - beat > limit:
        return f"stale (no heartbeat for {int((now - beat).total_seconds() // 60)} min)", (
            beat.isoformat()
        )
    return "ok", beat.isoformat()
