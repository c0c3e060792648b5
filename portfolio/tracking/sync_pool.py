"""Sync a batch of claimed links with a bounded pool: one slow tracker cannot hold the rest.

The phases are those of ``sync.py`` (prepare, fetch, apply); this module runs the fetches
of one batch at the same time, on at most ``concurrency`` worker threads, while the
calling thread alone touches the database (prepare, apply, commit, one link at a time):

- **Fair share.** Links are claimed a few at a time whenever a slot is free; a free slot
  goes to the server with the fewest fetches in flight, and one server holds at most half
  of the slots while more links may be claimed, so a hanging server leaves the other
  servers' links the rest from the first moment.
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

from ..models import RunLink, SyncState
from . import hosts
from .errors import TimedOut, host_of, timed_out
from .sync import (
    Fetched,
    SyncPlan,
    apply,
    claim_due,
    fetch,
    prepare,
    record_crash,
)
from .values import clean_text

logger = logging.getLogger(__name__)

TRACKER_NAMES = {"wandb": "W&B", "mlflow": "MLflow"}
# A tick may hold claims on this many links per fetch of its budget, so that links on a
# paused or hanging server, which wait, do not use up the claims of the others.
CLAIMS_PER_FETCH = 3


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
            self.add(job)
        self.concurrency = concurrency
        self.deadline = deadline
        self.running: dict[int, tuple[Job, float]] = {}  # link id -> (job, monotonic start)
        self.answers: queue.Queue[tuple[int, Fetched | BaseException]] = queue.Queue()
        self.suspect: set[str] = set()  # servers whose last answer was a timeout
        # While more links may be claimed, one server gets at most half of the slots, so
        # a hanging one leaves room for the others from the start; then it may use all.
        self.share = max(1, concurrency // 2)
        self.capped = True

    def add(self, job: Job) -> None:
        """Queue a prepared job behind its server's others."""
        self.waiting.setdefault(job.base_url, deque()).append(job)

    def startable(self) -> list[str]:
        """Return the servers with a job that may start now (see ``start_some``)."""
        limit = self.share if self.capped else self.concurrency
        return [
            url
            for url, jobs in self.waiting.items()
            if jobs and self.in_flight(url) < (1 if url in self.suspect else limit)
        ]

    def wants_work(self) -> bool:
        """Tell whether a slot is free and no waiting job may take it."""
        return len(self.running) < self.concurrency and not self.startable()

    def in_flight(self, base_url: str) -> int:
        return sum(1 for job, _ in self.running.values() if job.base_url == base_url)

    def start_some(self, budget: int) -> int:
        """Fill free slots, each with the next job of the least busy server.

        A server gets at most half of the slots while more links may be claimed, and one
        whose last answer was a timeout (in this batch, or before a pause) gets one fetch
        at a time until it answers or is paused again, so a hanging server cannot take
        the slots the other servers' links need.
        """
        started = 0
        while len(self.running) < self.concurrency and started < budget:
            servers = self.startable()
            if not servers:
                break
            url = min(servers, key=self.in_flight)  # ties: the order the batch came in
            job = self.waiting[url].popleft()
            self.running[job.plan.link_id] = (job, time.monotonic())
            threading.Thread(
                target=self._fetch, args=(job,), name=f"sync-{job.plan.link_id}", daemon=True
            ).start()
            started += 1
        return started

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


def sync_due(
    session: Session,
    *,
    clock: Callable[[], datetime],
    batch: int,
    concurrency: int,
    deadline: float,
) -> Counter[str]:
    """Claim and sync due links, at most ``batch`` fetches; return outcome counts.

    Links are claimed a few at a time whenever a slot is free and nothing waiting may
    start, so while a hanging server holds its share of the slots, the other slots keep
    claiming and syncing the next due links (those found by a project link included).
    Links deferred to the end of a pause were not fetched and do not count; claimed links
    left when the budget is spent are given back, due at the next tick.
    """
    outcomes: Counter[str] = Counter()
    pool = _Pool([], concurrency=concurrency, deadline=deadline)
    budget, claims = batch, CLAIMS_PER_FETCH * batch  # fetches, and links held at most

    def refill() -> None:
        nonlocal claims
        while claims > 0 and pool.wants_work():
            claimed = claim_due(session, now=clock(), limit=min(claims, concurrency))
            session.commit()
            if not claimed:
                break
            added = _prepare(session, pool, claimed, clock)
            claims -= len(claimed) - added["paused"]
            outcomes.update(added)
        if pool.wants_work():  # nothing more to claim: one server may use every slot
            pool.capped = False

    def fill() -> None:
        nonlocal budget
        while budget > 0:
            refill()
            started = pool.start_some(budget)
            budget -= started
            if not started:
                return

    fill()
    while (done := pool.next_answer()) is not None:
        job, answer = done
        outcome, paused_until = _apply(session, job, answer, clock)
        outcomes[outcome] += 1
        if isinstance(answer, Fetched) and isinstance(answer.error, TimedOut):
            pool.suspect.add(job.base_url)
        elif outcome == "synced":
            pool.suspect.discard(job.base_url)
        if paused_until is not None:
            deferred = _defer_all(session, pool, job.base_url, paused_until)
            session.commit()
            outcomes["paused"] += deferred
            claims += deferred  # not fetched: room for the next due links
        fill()
    unfetched = [job.plan.link_id for jobs in pool.waiting.values() for job in jobs]
    _release(session, unfetched, clock())
    return outcomes


def _release(session: Session, link_ids: list[int], now: datetime) -> None:
    """Give back claimed links the budget left unfetched: due again, at the next tick."""
    if link_ids:
        session.execute(
            update(RunLink)
            .where(col(RunLink.id).in_(link_ids), col(RunLink.sync_state) == "syncing")
            .values(sync_state=SyncState.queued.value, next_sync_at=now)
            .execution_options(synchronize_session=False)
        )
        session.commit()


def _prepare(
    session: Session,
    pool: _Pool,
    link_ids: list[int],
    clock: Callable[[], datetime],
) -> Counter[str]:
    """Prepare claimed links into the pool (deferring paused servers'); commit the reads."""
    added: Counter[str] = Counter()
    for link_id in link_ids:
        try:
            plan = prepare(session, link_id)
            link = session.get(RunLink, link_id) if plan is not None else None
        except Exception:
            logger.exception("run link %s could not be prepared", link_id)
            _crashed(session, link_id, clock())
            added["crashed"] += 1
            continue
        if plan is None or link is None:
            added["gone"] += 1
            continue
        pool.add(Job(plan, TRACKER_NAMES.get(link.provider, link.provider)))
    for base_url, until in hosts.paused(session, now=clock()).items():
        added["paused"] += _defer_all(session, pool, base_url, until)
    pool.suspect |= hosts.suspects(session)  # after a pause: one probe before the rest
    session.commit()  # end the reads: nothing stays open while trackers answer
    return added


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
