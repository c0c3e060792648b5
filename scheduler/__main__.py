"""`python -m scheduler`: the standalone scheduler process for production.

Runs every job once at start, so a scheduler that was down catches up
(late reminders are sent, not skipped), then keeps to the schedule.
`--once` stops after that first sweep (cron-style use, and tests).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
from types import FrameType

from portfolio import create_app

from . import JOBS, build_scheduler, run_all

logger = logging.getLogger("scheduler")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduler", description=__doc__)
    parser.add_argument("--once", action="store_true", help="run every job once, then exit")
    args = parser.parse_args(argv)

    app = create_app()
    results = run_all(app)
    if args.once:
        return 0 if all(results.values()) else 1

    scheduler = build_scheduler(app, blocking=True)

    def _stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %d: stopping the scheduler", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, _stop)
    logger.info("scheduler running %d jobs: %s", len(JOBS), ", ".join(j.id for j in JOBS))
    with contextlib.suppress(KeyboardInterrupt):
        scheduler.start()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
