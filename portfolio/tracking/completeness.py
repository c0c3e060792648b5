"""Never worse than before: a sync or import less complete than the current snapshot is held.

Every place that stores a run's new result (the sync job's ``apply``, an offline import)
calls ``store``. It compares the new result with the link's current snapshot and either
swaps it in (``snapshots.replace_snapshot``) or, when it is worse, keeps it aside as the
link's *held* snapshot: pages go on reading the current one, and the members' runs page
shows the reason with two buttons, "Keep the current results" (``keep_current``) and
"Replace anyway" (``replace_anyway``).

Worse means, as the tracking issue lists it:

- the reader says the file is incomplete (no exit record: an interrupted copy or a crash)
  and it holds fewer steps than the current snapshot;
- the current run had ended and the new result says it is running again;
- the current run had ended and the new result holds fewer steps.

"Steps" are the most points any metric had before downsampling (``original_count``), the
same measure for both sides. A first result is never held (something beats nothing), but
an incomplete file still earns the uploader a warning (``Verdict.warning``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from ..auth.rules import ValidationError
from ..models import MetricSeries, Project, RunLink, RunSnapshot
from . import snapshots
from .downsample import Series
from .provider import RunData
from .values import clean_text

logger = logging.getLogger(__name__)

RUNNING = frozenset({"running", "pending", "preempting"})


@dataclass(frozen=True)
class Verdict:
    """Whether the new result was applied; why not (``reason``); what the uploader should know."""

    applied: bool
    reason: str = ""
    warning: str = ""


def steps_of(series: Mapping[str, Series]) -> int:
    """The most rows any metric of a new result had before downsampling."""
    return max((s.original_count for s in series.values()), default=0)


def stored_steps(session: Session, snapshot_id: int) -> int:
    """The same measure for a stored snapshot (one query over its series)."""
    query = select(func.max(MetricSeries.original_count)).where(
        MetricSeries.snapshot_id == snapshot_id
    )
    return int(session.exec(query).one() or 0)


def incomplete_note(run: RunData, steps: int) -> str:
    """The uploader's warning for a run file that ends early, or ""."""
    if run.ended is not False:
        return ""
    return (
        f"This upload is incomplete: the run file ends after {steps} steps, before the run "
        "finished (training was interrupted, or the file was copied while wandb was writing)."
    )


def judge(current: RunSnapshot | None, current_steps: int, run: RunData, steps: int) -> str:
    """Return why the new result is worse than ``current``, or "" when it may replace it."""
    if current is None:
        return ""
    ended_before = bool(current.state) and current.state not in RUNNING
    if run.ended is False and steps < current_steps:
        return f"This upload is incomplete: {steps} of {current_steps} steps."
    if ended_before and run.state in RUNNING:
        return (
            f"The new result says the run is {run.state} again ({steps} of {current_steps} "
            f"steps), but it had {current.state}."
        )
    if ended_before and steps < current_steps:
        return f"The new result is incomplete: {steps} of {current_steps} steps."
    return ""


def store(
    session: Session, link: RunLink, run: RunData, series: Mapping[str, Series], now: datetime
) -> Verdict:
    """Replace the link's snapshot with the new result, or hold it when it is worse."""
    steps = steps_of(series)
    warning = incomplete_note(run, steps)
    current = None
    if link.current_snapshot_id is not None:
        current = session.get(RunSnapshot, link.current_snapshot_id)
    old_steps = stored_steps(session, link.current_snapshot_id) if current is not None else 0
    reason = judge(current, old_steps, run, steps)
    if not reason:
        snapshots.replace_snapshot(session, link, run, series, now)
        _clear(link)
        return Verdict(True, warning=warning)
    _hold(session, link, run, series, now, reason)
    logger.info("run link %s: new result held (%s)", link.id, reason)
    return Verdict(False, reason=reason, warning=warning)


def _hold(
    session: Session,
    link: RunLink,
    run: RunData,
    series: Mapping[str, Series],
    now: datetime,
    reason: str,
) -> None:
    """Keep the new result beside the current snapshot (replacing an older held one)."""
    previous = link.held_snapshot_id
    held = snapshots.add_snapshot(session, link, run, series, now)
    link.held_snapshot_id = held.id
    link.held_reason = clean_text(reason, 500)
    session.add(link)
    session.flush()
    if previous is not None:
        snapshots.delete_snapshot_ids(session, [previous])


def _clear(link: RunLink) -> None:
    link.held_snapshot_id = None
    link.held_reason = ""


def replace_anyway(session: Session, project: Project, link: RunLink, *, now: datetime) -> None:
    """Make the held result current (a member chose it); the old snapshot is deleted."""
    if link.held_snapshot_id is None:
        raise ValidationError("There is no newer result waiting for this run.")
    held = link.held_snapshot_id
    link.current_snapshot_id = held
    _clear(link)
    session.add(link)
    session.flush()
    snapshots.delete_snapshots(session, [link.id], keep=held)  # type: ignore[list-item]
    snapshots.bump(session, project, now)
    session.add(project)
    session.flush()
    logger.info("run link %s: held result applied by a member", link.id)


def keep_current(session: Session, link: RunLink) -> None:
    """Drop the held result (a member kept the current one)."""
    if link.held_snapshot_id is None:
        raise ValidationError("There is no newer result waiting for this run.")
    held = link.held_snapshot_id
    _clear(link)
    session.add(link)
    session.flush()
    snapshots.delete_snapshot_ids(session, [held])
