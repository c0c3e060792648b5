"""Sync run links with W&B: claim what is due, fetch outside transactions, swap in whole.

A sync has four phases; the scheduler job commits between them so that no database
transaction (let alone a row lock) is held while W&B is being asked:

1. ``claim_due`` marks due links ``syncing`` with a lease (``next_sync_at = now + LEASE``)
   in one UPDATE, selecting with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two
   schedulers never take the same link; if a process dies mid-sync the lease runs out and
   the link is due again.
2. ``prepare`` reads what the fetch needs (reference, server, key) into a plain ``SyncPlan``.
3. ``fetch`` talks to W&B only: the run's metadata plus its history streamed through
   ``downsample.collect`` (columns when the provider has them, as MLflow does, else rows;
   ≤ 1,000 LTTB points per metric, compact buffers), or, for a
   project link, the listing of matching runs. Provider errors become part of the result.
4. ``apply`` locks the link row, then either swaps in the new snapshot
   (``snapshots.replace_snapshot``) and bumps the project's page version, or records the
   error with exponential backoff and keeps the last good snapshot.

``sync_pool.sync_due`` runs the phases for the scheduler job; there is no shortcut that
syncs one link in a single transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, update
from sqlmodel import Session, col, select

from ..models import LinkKind, Project, RunLink, SyncState
from . import completeness, credentials, snapshots
from .downsample import DEFAULT_POINTS, Series, collect
from .provider import MissingApiKey, RunData, TrackingError, Unavailable
from .settings import ONLINE_PROVIDERS, TrackingSettings
from .values import clean_text
from .wandb_provider import MAX_LISTED_RUNS

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=30)  # longer than any sync; a dead worker's claim expires
RUNNING_EVERY = timedelta(minutes=15)
FINISHED_EVERY = timedelta(days=1)
PROJECT_EVERY = timedelta(hours=1)  # a project link looks for newly tagged runs
RETRY_BASE = timedelta(minutes=5)  # W&B down or rate-limiting: it will come back
REFUSED_BASE = timedelta(hours=1)  # not found / not allowed: only a change fixes it
MAX_BACKOFF = timedelta(days=1)
CRASH_MESSAGE = "Something went wrong on our side while saving this run; we will try again later."


@dataclass(frozen=True)
class SyncPlan:
    """Everything the fetch phase needs, read from the database beforehand."""

    link_id: int
    kind: LinkKind
    ref: str
    tags: tuple[str, ...]
    source: credentials.KeySource
    settings: TrackingSettings
    n_points: int = DEFAULT_POINTS


@dataclass(frozen=True)
class Fetched:
    """What W&B answered: a run with its series, a project's runs, or an error."""

    run: RunData | None = None
    series: Mapping[str, Series] = field(default_factory=dict)
    runs: tuple[RunData, ...] | None = None
    error: TrackingError | None = None


def claim_due(
    session: Session, *, now: datetime, limit: int, lease: timedelta = LEASE
) -> list[int]:
    """Claim up to ``limit`` due links (queued first); the caller commits at once."""
    due = (
        select(RunLink.id)
        .where(col(RunLink.provider).in_(ONLINE_PROVIDERS), RunLink.next_sync_at <= now)
        .order_by(
            case((RunLink.sync_state == SyncState.queued.value, 0), else_=1),
            RunLink.next_sync_at,
            RunLink.id,
        )
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = session.execute(
        update(RunLink)
        .where(col(RunLink.id).in_(due.scalar_subquery()))
        .values(sync_state=SyncState.syncing.value, next_sync_at=now + lease)
        .returning(RunLink.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed.scalars())


def prepare(
    session: Session, link_id: int, *, settings: TrackingSettings | None = None
) -> SyncPlan | None:
    """Read a link's reference and key; None when it is gone or not synced online."""
    link = session.get(RunLink, link_id, populate_existing=True)
    if link is None or link.provider not in ONLINE_PROVIDERS:
        return None
    settings = settings or TrackingSettings.current()
    base_url = link.base_url or settings.base_url
    source = credentials.resolve_key(
        session,
        user_id=link.created_by_id,
        base_url=base_url,
        settings=settings,
        provider=link.provider,
    )
    tags = tuple(t for t in link.tag_filter.split(",") if t)
    return SyncPlan(link.id, LinkKind(link.kind), link.ref, tags, source, settings)


def fetch(plan: SyncPlan) -> Fetched:
    """Ask W&B (no database here); provider errors are returned, bugs raise."""
    if plan.source.api_key is None:
        return Fetched(error=MissingApiKey(plan.source.problem or None))
    provider = plan.settings.provider(
        api_key=plan.source.api_key, base_url=plan.source.base_url, name=plan.source.provider
    )
    try:
        if plan.kind == LinkKind.project_filter:
            return Fetched(runs=tuple(provider.list_runs(plan.ref, tags=plan.tags)))
        run = provider.fetch_run(plan.ref)
        history = collect(provider, plan.ref, run.history_keys or None)
        series = history.downsample(plan.n_points)
        return Fetched(run=run, series=series)
    except TrackingError as err:
        return Fetched(error=err)


def _lock(session: Session, link_id: int) -> RunLink | None:
    """Load the link, locked on PostgreSQL, so two syncs of it swap one after the other."""
    query = select(RunLink).where(RunLink.id == link_id).with_for_update()
    return session.exec(query.execution_options(populate_existing=True)).first()


def apply(session: Session, plan: SyncPlan, fetched: Fetched, *, now: datetime) -> str:
    """Store what was fetched, or the error; return "synced", "error" or "gone"."""
    link = _lock(session, plan.link_id)
    if link is None:
        return "gone"
    if fetched.error is not None:
        _fail(link, fetched.error, now)
        session.add(link)
        session.flush()
        return "error"
    if link.kind == LinkKind.project_filter:
        _apply_listing(session, link, fetched.runs or (), now)
        interval = PROJECT_EVERY
    else:
        assert fetched.run is not None
        verdict = completeness.store(session, link, fetched.run, fetched.series, now)
        # a held (less complete) result is looked at again soon: a running run may finish
        running = fetched.run.is_running or not verdict.applied
        interval = RUNNING_EVERY if running else FINISHED_EVERY
    link.sync_state = SyncState.synced
    link.last_error = ""
    link.failures = 0
    link.last_synced_at = now
    link.next_sync_at = now + interval
    session.add(link)
    project = session.get(Project, link.project_id)
    if project is not None:
        snapshots.bump(session, project, now)
        session.add(project)
    session.flush()
    return "synced"


def _apply_listing(
    session: Session, parent: RunLink, runs: tuple[RunData, ...], now: datetime
) -> None:
    """Link newly matching runs as children (queued); drop children that stopped matching."""
    children = {
        c.ref: c.id for c in session.exec(select(RunLink).where(RunLink.parent_id == parent.id))
    }
    taken = set(
        session.exec(
            select(RunLink.ref).where(
                RunLink.project_id == parent.project_id, RunLink.provider == parent.provider
            )
        )
    )
    parent.matched_runs = len(runs)
    matched: set[str] = set()
    for run in runs:
        if len(run.path) > 300:
            logger.warning("skipping a W&B run whose path is too long: %s…", run.path[:80])
            continue
        matched.add(run.path)
        if run.path in taken:
            continue  # already a child, or linked directly
        taken.add(run.path)
        session.add(
            RunLink(
                project_id=parent.project_id,
                provider=parent.provider,
                kind=LinkKind.run,
                ref=run.path,
                base_url=parent.base_url,
                parent_id=parent.id,
                hidden=parent.hidden,
                created_by_id=parent.created_by_id,
                sync_state=SyncState.queued,
                next_sync_at=now,
                created_at=now,
            )
        )
    if len(runs) < MAX_LISTED_RUNS:  # a capped listing cannot tell what stopped matching
        snapshots.delete_links(session, [i for ref, i in children.items() if ref not in matched])


def next_try(failures: int, error: TrackingError, now: datetime) -> datetime:
    """Back off exponentially; honour the server's Retry-After when it asks for longer."""
    base = RETRY_BASE if error.retryable else REFUSED_BASE
    delay = min(base * 2 ** min(max(failures - 1, 0), 16), MAX_BACKOFF)
    if error.retry_after:
        delay = max(delay, timedelta(seconds=float(error.retry_after)))
    return now + delay


def _fail(link: RunLink, error: TrackingError, now: datetime) -> None:
    link.failures += 1
    link.sync_state = SyncState.error
    link.last_error = clean_text(error.message, 500)
    link.next_sync_at = next_try(link.failures, error, now)
    logger.info(
        "sync of run link %s failed (%s, %d in a row): %s",
        link.id,
        type(error).__name__,
        link.failures,
        error.detail or error.message,
    )


def record_crash(session: Session, link_id: int, *, now: datetime) -> None:
    """Record an unexpected failure (already logged) so the link backs off too."""
    link = _lock(session, link_id)
    if link is not None:
        _fail(link, Unavailable(CRASH_MESSAGE), now)
        session.add(link)
        session.flush()
