"""Sync a batch of claimed links with a bounded pool: one slow tracker cannot hold the rest.

The phases are those of ``sync.py`` (prepare, fetch, apply); this module runs the fetches
of one batch at the same time, on at most ``concurrency`` worker threads, while the
calling thread alone touches the database (prepare, apply, commit, one link at a time):

- **Fair share.** A free slot goes to the server with the fewest fetches in flight, so a
  hanging server holds at most its share of the slots and the other servers' links keep
  moving through the rest.
- **Hard deadline.** A fetch still running after ``deadline`` seconds is given up: its
  link records a timeout and its slot is freed. Its thread cannot be killed; it is a
  daemon that finishes when the tracker client's own timeout fires, and its late answer is
  dropped. Pausing (below) stops new fetches to that server, which bounds such threads.
- **Host pause.** Timeouts are counted per base URL in the database (``hosts.py``); a
  server that times out repeatedly is paused, and this batch's remaining links on it are
  deferred to the end of the pause ("paused") instead of each waiting out a deadline.
  A server another process paused is skipped the same way.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from portfolio.models import RunLink, SyncState
from portfolio.tracking import hosts
from portfolio.tracking.errors import TimedOut, host_of, timed_out
from portfolio.tracking.sync import Fetched, SyncPlan, apply, fetch, prepare, record_crash
from portfolio.tracking.values import clean_text

logger = logging.getLogger(__name__)

TRACKER_NAMES = {"wandb": "W&B", "mlflow": "MLflow"}


@dataclass(frozen=True)
class Job:
    """One prepared link waiting for (or in) a fetch slot."""

    plan: SyncPlan
    tracker: str  # "W&B", for messages

    @property
    def base_url(self) -> str:
        return self.plan.source.base_url


def paused_message(tracker: str, base_url: str) -> str:
    """Say why a link waits (the status line adds when the next try is)."""
    return clean_text(
        f"{tracker} at {host_of(base_url)} timed out repeatedly, so syncs with it are paused "
        f"for a while; links on other servers are not affected.",
        500,
    )


def _defer(session: Session, link_id: int, message: str, until: datetime) -> None:
    """Give a claimed link back until ``until`` without fetching it (keeps its snapshot)."""
    session.execute(
        update(RunLink)
        .where(col(RunLink.id) == link_id, col(RunLink.sync_state) == SyncState.syncing.value)
        .values(sync_state=SyncState.error.value, last_error=message, next_sync_at=until)
        .execution_options(synchronize_session=False)
    )


class _Pool:
    """The state of one batch: waiting jobs per server, fetches in flight, their answers."""

    def __init__(self, jobs: list[Job], *, concurrency: int, deadline: float) -> None:
        self.waiting: dict[str, deque[Job]] = {}
        for job in jobs:
            self.waiting.setdefault(job.base_url, deque()).append(job)
        self.concurrency = concurrency
        self.deadline = deadline
        self.running: dict[int, tuple[Job, float]] = {}  # link id -> (job, monotonic start)
        self.answers: queue.Queue[tuple[int, Fetched | BaseException]] = queue.Queue()
        self.suspect: set[str] = set()  # servers whose last answer was a timeout

    def in_flight(self, base_url: str) -> int:
        return sum(1 for job, _ in self.running.values() if job.base_url == base_url)

    def start_some(self) -> None:
        """Fill free slots, each with the next job of the least busy server.

        A server whose last answer was a timeout (in this batch, or before a pause) gets
        one fetch at a time until it answers or is paused again, so it cannot take the
        slots the other servers' links free up.
        """
        while len(self.running) < self.concurrency:
            servers = [
                url
                for url, jobs in self.waiting.items()
                if jobs and (url not in self.suspect or not self.in_flight(url))
            ]
            if not servers:
                return
            url = min(servers, key=self.in_flight)  # ties: the order the batch came in
            job = self.waiting[url].popleft()
            self.running[job.plan.link_id] = (job, time.monotonic())
            threading.Thread(
                target=self._fetch, args=(job,), name=f"sync-{job.plan.link_id}", daemon=True
            ).start()

    def _fetch(self, job: Job) -> None:
        try:
            answer: Fetched | BaseException = fetch(job.plan)
        except BaseException as exc:  # handed to the calling thread, which logs it
            answer = exc
        self.answers.put((job.plan.link_id, answer))

    def next_answer(self) -> tuple[Job, Fetched | BaseException] | None:
        """Wait for an answer, or for the earliest deadline (then a timeout is the answer)."""
        while self.running:
            oldest = min(started for _, started in self.running.values())
            try:
                link_id, answer = self.answers.get(
                    timeout=max(0.0, oldest + self.deadline - time.monotonic())
                )
            except queue.Empty:
                link_id = next(i for i, (_, s) in self.running.items() if s == oldest)
                job, _ = self.running.pop(link_id)
                logger.warning("sync of run link %s passed its deadline; given up", link_id)
                error = timed_out(tracker=job.tracker, base_url=job.base_url, seconds=self.deadline)
                return job, Fetched(error=error)
            if link_id in self.running:  # else: an answer after its deadline, dropped
                job, _ = self.running.pop(link_id)
                return job, answer
        return None

    def take_waiting(self, base_url: str) -> list[Job]:
        """Remove and return the jobs still waiting for ``base_url``."""
        return list(self.waiting.pop(base_url, ()))


def sync_batch(
    session: Session,
    link_ids: list[int],
    *,
    clock: Callable[[], datetime],
    concurrency: int,
    deadline: float,
) -> Counter[str]:
    """Sync claimed links (the caller committed the claim); return outcome counts."""
    outcomes: Counter[str] = Counter()
    jobs: list[Job] = []
    for link_id in link_ids:
        try:
            plan = prepare(session, link_id)
            link = session.get(RunLink, link_id) if plan is not None else None
        except Exception:
            logger.exception("run link %s could not be prepared", link_id)
            _crashed(session, link_id, clock())
            outcomes["crashed"] += 1
            continue
        if plan is None or link is None:
            outcomes["gone"] += 1
            continue
        jobs.append(Job(plan, TRACKER_NAMES.get(link.provider, link.provider)))
    pool = _Pool(jobs, concurrency=concurrency, deadline=deadline)
    for base_url, until in hosts.paused(session, now=clock()).items():
        outcomes["paused"] += _defer_all(session, pool, base_url, until)
    pool.suspect |= hosts.suspects(session)  # after a pause: one probe before the rest
    session.commit()  # end the reads: nothing stays open while trackers answer
    pool.start_some()
    while (done := pool.next_answer()) is not None:
        job, answer = done
        outcome, paused_until = _apply(session, job, answer, clock)
        outcomes[outcome] += 1
        if isinstance(answer, Fetched) and isinstance(answer.error, TimedOut):
            pool.suspect.add(job.base_url)
        elif outcome == "synced":
            pool.suspect.discard(job.base_url)
        if paused_until is not None:
            outcomes["paused"] += _defer_all(session, pool, job.base_url, paused_until)
            session.commit()
        pool.start_some()
    return outcomes


def _apply(
    session: Session, job: Job, answer: Fetched | BaseException, clock: Callable[[], datetime]
) -> tuple[str, datetime | None]:
    """Apply one answer and count it for its server, in one transaction."""
    link_id = job.plan.link_id
    if isinstance(answer, BaseException):
        logger.error("run link %s could not be fetched", link_id, exc_info=answer)
        _crashed(session, link_id, clock())
        return "crashed", None
    now = clock()
    try:
        outcome = apply(session, job.plan, answer, now=now)
        paused_until = None
        if isinstance(answer.error, TimedOut):
            detail = answer.error.detail or answer.error.message
            paused_until = hosts.record_timeout(session, job.base_url, now=now, error=detail)
        elif answer.error is None:
            hosts.record_success(session, job.base_url, now=now)
        session.commit()
    except Exception:
        logger.exception("run link %s could not be synced", link_id)
        _crashed(session, link_id, clock())
        return "crashed", None
    if paused_until is not None:
        logger.warning("pausing syncs with %s until %s (timeouts)", job.base_url, paused_until)
    return outcome, paused_until


def _defer_all(session: Session, pool: _Pool, base_url: str, until: datetime) -> int:
    """Defer every job still waiting for a paused server; return how many."""
    waiting = pool.take_waiting(base_url)
    for job in waiting:
        _defer(session, job.plan.link_id, paused_message(job.tracker, base_url), until)
    return len(waiting)


def _crashed(session: Session, link_id: int, now: datetime) -> None:
    """Roll back and record an unexpected failure (the caller logged it) so it backs off."""
    session.rollback()
    record_crash(session, link_id, now=now)
    session.commit()
