"""One scheduler sweep that starts on a signal, for races between processes.

    python bench/sweep_at_once.py READY_FILE GO_FILE

Builds the app (imports, configuration, database engine), touches READY_FILE, waits
until GO_FILE exists, then runs every job once as `python -m scheduler --once` does
and prints one JSON line: {"started": t0, "ended": t1} (Unix time). Several copies
started together therefore sweep at the same moment, and the caller can check from
the printed spans that they really overlapped. Used by tests/scheduler/test_processes.py
and bench/prod_shape.py; exits 1 when a job failed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(ready: Path, go: Path) -> int:
    sys.path.insert(0, str(ROOT))
    from portfolio import create_app
    from scheduler import run_all

    app = create_app()
    ready.touch()
    while not go.exists():
        time.sleep(0.001)
    started = time.time()
    ok = all(run_all(app).values())
    print(json.dumps({"started": started, "ended": time.time()}), flush=True)
    return 0 if ok else 1


@dataclass
class Sweep:
    """What one racing process reported: its exit code, its span, its stderr."""

    returncode: int
    span: dict[str, float] | None
    stderr: str


def race(count: int, env: dict[str, str], gate: Path, timeout: float = 180) -> list[Sweep]:
    """Start `count` sweeps, release them together once all are ready, collect them.

    `gate` is an empty folder for the barrier files. A process that dies before the
    barrier releases the others at once, so a start-up error fails fast.
    """
    ready = [gate / f"ready-{i}" for i in range(count)]
    procs = [
        subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), str(flag), str(gate / "go")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag in ready
    ]
    deadline = time.monotonic() + timeout
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        if any(proc.poll() is not None for proc in procs):
            break
        time.sleep(0.01)
    (gate / "go").touch()
    sweeps = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        lines = out.strip().splitlines()
        sweeps.append(Sweep(proc.returncode, json.loads(lines[-1]) if lines else None, err))
    return sweeps


def overlapped(spans: list[dict[str, float]]) -> bool:
    """Whether every pair of sweeps ran at the same time for a while."""
    return all(
        a["started"] < b["ended"] and b["started"] < a["ended"]
        for i, a in enumerate(spans)
        for b in spans[i + 1 :]
    )


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]), Path(sys.argv[2])))
