"""Bound how long a web request waits for W&B.

The wandb client retries on its own for up to ``(retries + 1) * timeout`` seconds, longer
than a web worker should block (gunicorn kills a worker after 30 s). Checks made while a
learner waits (is this run there? is this key right?) therefore run in a daemon thread and
are abandoned after a few seconds: the thread finishes on its own in the background, and
the caller falls back to queueing the work for the scheduler.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Answer(Generic[T]):
    """What came back in time: a value, an exception, or nothing (``timed_out``)."""

    value: T | None = None
    error: BaseException | None = None
    timed_out: bool = False


def call_with_deadline(fn: Callable[[], T], seconds: float) -> Answer[T]:
    """Run ``fn`` in a daemon thread and wait at most ``seconds`` for it."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller, who decides
            box["error"] = exc

    thread = threading.Thread(target=run, name="tracking-check", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        return Answer(timed_out=True)
    if "error" in box:
        return Answer(error=box["error"])  # type: ignore[arg-type]
    return Answer(value=box.get("value"))  # type: ignore[arg-type]
