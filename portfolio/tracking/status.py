"""Say where a link's sync stands, in words, in the viewer's time zone.

"queued", "syncing", "synced 2 minutes ago", "error: W&B did not answer in time; we will
try again later. Next try at 14:05 CET." Errors are shown to project members only (the
management section); the public page just keeps showing the last good snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..models import LinkKind, RunLink, SyncState
from ..timeutil import format_local, relative, to_local
from .settings import OFFLINE_PROVIDER
from .wandb_provider import MAX_LISTED_RUNS


@dataclass(frozen=True)
class Status:
    """A short state word (for CSS and the API) and the sentence shown to members."""

    state: str
    text: str
    detail: str = ""  # for errors: the text after "error: "


def next_try_text(instant: datetime, now: datetime, tz_name: str) -> str:
    """Return "14:05 CET", or "Tue 4 Mar, 14:05 CET" when it is not today for the viewer."""
    if to_local(instant, tz_name).date() == to_local(now, tz_name).date():
        return format_local(instant, tz_name, "HH:mm")
    return format_local(instant, tz_name, "EEE d MMM, HH:mm")


def describe(link: RunLink, now: datetime, tz_name: str) -> Status:
    """Describe a link's sync state for a viewer in ``tz_name``."""
    if link.provider == OFFLINE_PROVIDER:
        when = relative(link.last_synced_at, now)
        return Status("synced", f"imported {'just now' if when == 'now' else when}".strip())
    state = SyncState(link.sync_state)
    if state == SyncState.syncing:
        # a claim whose lease ran out (the worker died) is simply due again
        leased = link.next_sync_at > now
        return Status("syncing", "syncing") if leased else Status("queued", "queued")
    if state == SyncState.queued:
        return Status("queued", "queued")
    if state == SyncState.synced:
        when = relative(link.last_synced_at, now) if link.last_synced_at else ""
        return Status("synced", f"synced {'just now' if when == 'now' else when}".strip())
    message = (link.last_error or "the last sync failed.").rstrip()
    if not message.endswith((".", "!", "?")):
        message += "."
    detail = f"{message} Next try at {next_try_text(link.next_sync_at, now, tz_name)}."
    return Status("error", f"error: {detail}", detail)


def matched_text(link: RunLink, *, cap: int | None = MAX_LISTED_RUNS) -> str:
    """Say how many runs a project link's last listing matched, e.g. "0 runs carry the tag
    portfolio in ada/gentrify"; "" for a run link or before the first listing."""
    if link.kind != LinkKind.project_filter or link.matched_runs is None:
        return ""
    count = link.matched_runs
    runs = f"{'at least ' if cap and count >= cap else ''}{count} run{'' if count == 1 else 's'}"
    tags = [t for t in link.tag_filter.split(",") if t]
    if not tags:
        return f"{link.ref} has {runs}"
    verb = "carries" if count == 1 else "carry"
    which = f"the tag {tags[0]}" if len(tags) == 1 else f"one of the tags {' or '.join(tags)}"
    return f"{runs} {verb} {which} in {link.ref}"
