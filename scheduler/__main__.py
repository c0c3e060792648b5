"""`python -m scheduler`: a standalone scheduler process for production; run one or more.

Every process beats and polls the work queues (emails, run syncs, offline imports);
the one holding the lease also runs the singleton jobs, and a standby takes over
within SCHEDULER_LEASE_SECONDS + SCHEDULER_TICK_SECONDS when it dies. At start the
process runs every job it may once, so a scheduler that was down catches up (late
reminders are sent, not skipped), then keeps to the schedule. `--once` runs every
job once, singletons included whoever holds the lease, and exits (cron-style use, and
tests).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
from types import FrameType

from portfolio import create_app

from . import JOBS, build_scheduler, run_all
from .coordinator import Coordinator

logger = logging.getLogger("scheduler")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduler", description=__doc__)
    parser.add_argument("--once", action="store_true", help="run every job once, then exit")
    args = parser.parse_args(argv)

    app = create_app()
    coordinator = Coordinator(app)
    coordinator.beat()
    if args.once:
        # An operator's (or cron's) explicit sweep runs every job, lease or not: a lease
        # left by a killed process must not hold it back, and dedupe keys and claims
        # make running next to an active scheduler harmless.
        try:
            results = run_all(app)
        finally:
            coordinator.stop()
        return 0 if all(results.values()) else 1

    scheduler = build_scheduler(app, blocking=True, coordinator=coordinator)
    coordinator.start()  # beats while the catch-up below runs, however long it takes

    def _stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %d: stopping the scheduler", signum)
        if not scheduler.running:  # still catching up: leave through the finally below
            raise SystemExit(0)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, _stop)
    try:
        run_all(app, coordinator=coordinator)
        logger.info(
            "scheduler %s running %d jobs as %s: %s",
            coordinator.process_id, len(JOBS), coordinator.role, ", ".join(j.id for j in JOBS),
        )  # fmt: skip
        with contextlib.suppress(KeyboardInterrupt):
            scheduler.start()
    finally:
        coordinator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
