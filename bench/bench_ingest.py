"""Benchmark ingesting a big run: 1,000,000 history rows x 5 metrics into one snapshot.

    python bench/bench_ingest.py [--rows 1000000] [--repeat 3] [--database-url URL] [--json]

Targets: the whole pipeline from the tracker's bytes to a committed snapshot takes
<= 1.5 x the time to merely parse the same JSON lines, and peak RSS <= 300 MB. Every
measurement runs in a fresh subprocess, because ``resource.getrusage(RUSAGE_SELF).ru_maxrss``
is a per-process high-water mark:

- ``parse`` (the baseline): ``json.loads`` of each line of a JSON-lines file holding the
  rows, ``{"_step": i, "loss": ..., ...}`` as W&B's history pages deliver them (the
  ``history`` strings of a HistoryPage answer); nothing kept.
- ``pipeline`` (the headline): the same lines parsed with ``json.loads`` (as the W&B client
  does for each page), paired with their steps by ``values.step_rows`` (the very function
  ``WandbProvider.iter_history`` runs on each page), accumulated and downsampled by
  ``downsample_rows`` (columnar chunks, compact buffers, LTTB, <= 1,000 points per metric),
  then written as a RunSnapshot with its MetricSeries by ``snapshots.replace_snapshot`` and
  committed: everything a sync does after the bytes arrive.
- ``rows`` (for information): the same from rows already parsed, streamed from a generator
  shaped like ``provider.iter_history`` output: what ingest costs when a provider hands
  over numbers (the offline reader, say).

The database is a fresh SQLite file by default (schema from the models);
``--database-url`` points at another (an empty PostgreSQL database, say).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KEYS = ("train/loss", "val/loss", "val/acc", "lr", "grad_norm")
TIME_RATIO_TARGET = 1.5
RSS_TARGET_MB = 300.0


def metrics_at(i: int) -> dict[str, float]:
    """The five metrics at step ``i``: smooth curves with a little deterministic wiggle."""
    decay = math.exp(-i / 250_000)
    wiggle = math.sin(i * 0.37) * 0.01
    return {
        "train/loss": 2.3 * decay + wiggle,
        "val/loss": 2.4 * decay + 2 * wiggle,
        "val/acc": 1.0 - 0.9 * decay - wiggle,
        "lr": 3e-4 * (1 + math.cos(math.pi * i / 1_000_000)) / 2,
        "grad_norm": 1.0 + abs(wiggle) * 50,
    }


def history(n: int) -> Iterator[tuple[int, dict[str, float]]]:
    """Yield rows shaped like ``provider.iter_history`` output."""
    for i in range(n):
        yield i, metrics_at(i)


def write_lines(path: Path, n: int) -> None:
    """Write the same rows as W&B-style JSON lines."""
    with path.open("w") as out:
        for i in range(n):
            out.write(json.dumps({"_step": i, **metrics_at(i)}) + "\n")


def json_history(path: Path) -> Iterator[tuple[int, dict]]:
    """Parse JSON lines and pair them with their steps, as ``WandbProvider`` does."""
    from portfolio.tracking.values import step_rows

    with path.open() as lines:
        yield from step_rows(map(json.loads, lines))


def peak_rss_mb() -> float:
    """Return this process's peak resident set size in MB (Linux reports KiB).

    Linux carries the high-water mark of the process that forked a child into it, so the
    parent imports nothing big and leaves database work to children too.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_parse(path: Path) -> dict[str, float]:
    """Time json.loads over every line (the baseline)."""
    loads = json.loads
    started, cpu = time.perf_counter(), time.process_time()
    with path.open() as lines:
        for line in lines:
            loads(line)
    return {"seconds": time.perf_counter() - started, "cpu_s": time.process_time() - cpu}


def setup_database(url: str) -> tuple[object, int]:
    """Create the schema and the rows a run link hangs from; return (engine, link id)."""
    from sqlmodel import Session, SQLModel

    from portfolio.db import make_engine
    from portfolio.models import Project, RunLink, Season, User

    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        user = User(handle="bench", display_name="Bench", email="b@x.test", password_hash="x")
        quarter = {"starts_on": date(2027, 1, 1), "ends_on": date(2027, 3, 31)}
        season = Season(slug="bench", title="Bench", **quarter)
        session.add_all([user, season])
        session.flush()
        project = Project(season_id=season.id, owner_id=user.id, title="Bench", slug="bench")
        session.add(project)
        session.flush()
        link = RunLink(project_id=project.id, ref="bench/bench/run")
        session.add(link)
        session.commit()
        return engine, link.id


def child_ingest(
    url: str,
    rows: Iterator[tuple[int, dict[str, float]]] | None = None,
    columns: Iterator[tuple[str, Any, Any]] | None = None,
) -> dict[str, float]:
    """Time rows (or, given, columns) → accumulator → downsample → replace_snapshot → commit.

    Rows and columns may parse as they go; ``columns`` is what a provider's
    ``iter_history_columns`` yields (``SeriesAccumulator.add_columns``, as sync does).
    """
    from sqlmodel import Session, select

    from portfolio.models import MetricSeries, Project, RunLink
    from portfolio.tracking.downsample import SeriesAccumulator, downsample_rows
    from portfolio.tracking.provider import RunData
    from portfolio.tracking.snapshots import bump, replace_snapshot

    engine, link_id = setup_database(url)
    now = datetime.now(UTC)
    rss_before = peak_rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    if columns is None:
        series = downsample_rows(rows or iter(()), KEYS)
    else:
        accumulator = SeriesAccumulator(KEYS)
        for key, steps, numbers in columns:
            accumulator.add_columns(key, steps, numbers)
        series = accumulator.downsample()
    run = RunData(
        provider="wandb", path="bench/bench/run", run_id="run", name="bench", state="finished",
        summary={k: v for k, v in metrics_at(999_999).items()}, config={"lr": 3e-4},
        history_keys=KEYS,
    )  # fmt: skip
    with Session(engine, expire_on_commit=False) as session:
        link = session.get(RunLink, link_id)
        replace_snapshot(session, link, run, series, now)
        project = session.get(Project, link.project_id)
        bump(session, project, now)
        session.add(project)
        session.commit()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    with Session(engine) as session:
        stored = session.exec(select(MetricSeries)).all()
        counts = sorted((len(s.points), s.original_count) for s in stored)
    return {"seconds": seconds, "cpu_s": cpu, "rss_before_mb": rss_before, "series": counts}


def run_child(mode: str, path: Path, url: str) -> dict[str, float]:
    """Run one measurement in a fresh interpreter and return its figures."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--lines", str(path), "--database-url", url],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child", choices=["parse", "pipeline", "rows", "reset"])
    parser.add_argument("--lines", type=Path)
    args = parser.parse_args()

    if args.child:
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        if args.child == "reset":
            reset(args.database_url)
            return
        if args.child == "parse":
            result = child_parse(args.lines)
        elif args.child == "rows":
            n = sum(1 for _ in args.lines.open())
            result = child_ingest(args.database_url, history(n))
        else:
            result = child_ingest(args.database_url, json_history(args.lines))
        result["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        lines = Path(tmp) / "history.jsonl"
        write_lines(lines, args.rows)
        figures: dict[str, list[dict]] = {"parse": [], "pipeline": [], "rows": []}
        for i in range(args.repeat):
            for mode in figures:
                url = args.database_url or f"sqlite:///{tmp}/bench-{mode}-{i}.db"
                if args.database_url:  # in a child: the parent stays small (see peak_rss_mb)
                    subprocess.run(
                        [sys.executable, __file__, "--child", "reset", "--database-url", url],
                        check=True,
                    )
                figures[mode].append(run_child(mode, lines, url))
        size_mb = lines.stat().st_size / 2**20

    summary = {
        mode: {
            "median_s": round(statistics.median(r["seconds"] for r in runs), 2),
            "min_s": round(min(r["seconds"] for r in runs), 2),
            "cpu_median_s": round(statistics.median(r["cpu_s"] for r in runs), 2),
            "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
        }
        for mode, runs in figures.items()
    }
    for mode in ("pipeline", "rows"):
        summary[mode]["ratio_to_parse"] = round(
            summary[mode]["median_s"] / summary["parse"]["median_s"], 2
        )
        # on a shared machine CPU time is the steadier figure (this process's CPU only;
        # the database server's share of writing 5 x 1,000 points is a few milliseconds)
        summary[mode]["cpu_ratio_to_parse"] = round(
            summary[mode]["cpu_median_s"] / summary["parse"]["cpu_median_s"], 2
        )
        summary[mode]["rss_after_imports_mb"] = round(figures[mode][0]["rss_before_mb"], 1)
    meta = {
        "rows": args.rows,
        "metrics": len(KEYS),
        "jsonl_mb": round(size_mb, 1),
        "repeat": args.repeat,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "database": "postgresql" if args.database_url.startswith("postgres") else "sqlite",
        "stored": figures["pipeline"][0]["series"],
    }
    if args.json:
        print(json.dumps({"meta": meta, "results": summary}, indent=2))
        return
    print(f"tracking ingest ({meta})")
    headline = summary["pipeline"]
    time_ok = max(headline["ratio_to_parse"], headline["cpu_ratio_to_parse"]) <= TIME_RATIO_TARGET
    rss_ok = headline["peak_rss_mb"] <= RSS_TARGET_MB
    for mode, r in summary.items():
        print(f"  {mode:12s} {r}")
    print(
        f"  pipeline (bytes to snapshot) <= {TIME_RATIO_TARGET} x parse (wall and CPU): "
        f"{'ok' if time_ok else 'MISSED'}; "
        f"peak RSS <= {RSS_TARGET_MB:.0f} MB: {'ok' if rss_ok else 'MISSED'}"
    )


def reset(url: str) -> None:
    """Empty a given database so each child starts from nothing."""
    from sqlmodel import SQLModel

    import portfolio.models  # noqa: F401  (fills the metadata drop_all walks)
    from portfolio.db import make_engine

    engine = make_engine(url)
    SQLModel.metadata.drop_all(engine)
    engine.dispose()


if __name__ == "__main__":
    main()
