"""Sync states in words, in the viewer's time zone; the dev-wandb command."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portfolio.models import LinkKind, RunLink, SyncState
from portfolio.tracking.commands import DEV_KEY
from portfolio.tracking.status import describe, matched_text
from portfolio.tracking.wandb_provider import WandbProvider

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


def make_link(**fields: object) -> RunLink:
    """Build an unsaved link in a given state."""
    return RunLink(project_id=1, ref="e/p/r", **fields)


def test_matched_runs_in_words() -> None:
    """A project link says how many runs its tags matched; a run link says nothing."""

    def follow(tags: str, matched: int | None) -> str:
        link = RunLink(
            project_id=1, ref="ada/gentrify", kind=LinkKind.project_filter, tag_filter=tags,
            matched_runs=matched,
        )  # fmt: skip
        return matched_text(link)

    assert follow("portfolio", 0) == "0 runs carry the tag portfolio in ada/gentrify"
    assert follow("portfolio", 1) == "1 run carries the tag portfolio in ada/gentrify"
    assert follow("a,b", 3) == "3 runs carry one of the tags a or b in ada/gentrify"
    assert follow("", 2) == "ada/gentrify has 2 runs"
    assert follow("", 200) == "ada/gentrify has at least 200 runs"
    assert follow("portfolio", None) == ""  # not listed yet
    assert matched_text(make_link(matched_runs=4)) == ""


def test_states_in_words() -> None:
    """queued, syncing, synced N ago, and a syncing link whose lease ran out is queued."""
    assert describe(make_link(sync_state=SyncState.queued, next_sync_at=NOW), NOW, "UTC").text == (
        "queued"
    )
    leased = make_link(sync_state=SyncState.syncing, next_sync_at=NOW + timedelta(minutes=5))
    assert describe(leased, NOW, "UTC").text == "syncing"
    assert describe(leased, NOW + timedelta(hours=1), "UTC").text == "queued"
    synced = make_link(
        sync_state=SyncState.synced,
        last_synced_at=NOW - timedelta(minutes=2),
        next_sync_at=NOW + timedelta(days=1),
    )
    assert describe(synced, NOW, "UTC").text == "synced 2 minutes ago"
    offline = make_link(provider="wandb-offline", last_synced_at=NOW, next_sync_at=NOW)
    assert describe(offline, NOW, "UTC").text == "imported just now"


def test_errors_say_when_the_next_try_is_in_the_viewers_zone() -> None:
    """Errors say "Next try at 14:05" in the viewer's zone; another day's try names the day."""
    failed = make_link(
        sync_state=SyncState.error,
        last_error="W&B did not answer in time; we will try again later.",
        next_sync_at=datetime(2027, 1, 10, 13, 5, tzinfo=UTC),
    )
    berlin = describe(failed, NOW, "Europe/Berlin")
    assert berlin.state == "error"
    assert berlin.text == (
        "error: W&B did not answer in time; we will try again later. Next try at 14:05 CET."
    )
    assert berlin.detail.startswith("W&B did not answer")
    tokyo = describe(failed, NOW, "Asia/Tokyo")  # 22:05 there, the same day
    assert tokyo.text.endswith("Next try at 22:05 JST.")
    failed.next_sync_at = NOW + timedelta(days=1)
    assert describe(failed, NOW, "UTC").text.endswith("Next try at Mon 11 Jan, 12:00 UTC.")


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_dev_wandb_serves_the_demo_runs(wandb_home: Path, tmp_path: Path) -> None:
    """`flask dev-wandb` serves seed_demo on 127.0.0.1 to the real client, with its dev key."""
    port = free_port()
    env = dict(os.environ, INSTANCE_PATH=str(tmp_path / "instance"), LOG_FORMAT="text")
    flask = Path(sys.executable).with_name("flask")
    proc = subprocess.Popen(
        [str(flask), "--app", "app", "dev-wandb", "--port", str(port)],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # logs; the address is printed on stdout
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}" in first, first
        provider = WandbProvider(
            api_key=DEV_KEY, base_url=f"http://127.0.0.1:{port}", data_dir=wandb_home,
            timeout=1.0, retries=1,
        )  # fmt: skip
        started = time.monotonic()
        run = provider.fetch_run("demo-learner/mnist/demo0001")
        assert run.name == "baseline CNN" and time.monotonic() - started < 15
        tagged = provider.list_runs("demo-learner/mnist", tags=["portfolio"])
        assert [r.run_id for r in tagged] == ["demo0001"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
