"""Benchmark ingesting a big MLflow run from the JSON MLflow's get-history pages deliver.

    python bench/bench_ingest_mlflow.py [--rows 1000000] [--repeat 3] [--database-url URL]

The same run as bench_ingest.py (rows x 5 metrics, ``bench_ingest.metrics_at``), written as
MLflow serves it: one ``metrics/get-history`` answer per metric and page of 25,000 points,
``{"metrics": [{"key", "value", "timestamp", "step"}, ...], "next_page_token": ...}``.

- ``parse``: ``json.loads`` of every page (nothing kept): the baseline.
- ``ingest-mlflow``: every page parsed and mapped by ``mlflow_history.page_columns`` into
  float step/value arrays (what ``MlflowProvider.iter_history_columns``, the sync's path,
  does with each answer), appended by ``SeriesAccumulator.add_columns``, downsampled and
  stored by ``snapshots.replace_snapshot``, as bench_ingest's ``child_ingest`` does.

Like bench_ingest, each measurement runs in a fresh interpreter (peak RSS is per process).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import KEYS, child_ingest, metrics_at, peak_rss_mb, reset

PAGE = 25_000  # MLflow's own page size limit for get-history
STAMP = 1_700_000_000_000


def write_pages(folder: Path, n: int) -> None:
    """Write each metric's history as MLflow's get-history pages, one file per page."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, key in enumerate(KEYS):
        for page, start in enumerate(range(0, n, PAGE)):
            points = [
                {"key": key, "value": metrics_at(i)[key], "timestamp": STAMP + i, "step": i}
                for i in range(start, min(start + PAGE, n))
            ]
            body: dict = {"metrics": points}
            if start + PAGE < n:
                body["next_page_token"] = f"token-{start + PAGE}"
            (folder / f"{k:02d}-{page:05d}.json").write_bytes(json.dumps(body).encode())


def pages(folder: Path) -> Iterator[tuple[str, bytes]]:
    """Yield (metric, page bytes) in the order the provider asks for them."""
    for path in sorted(folder.glob("*.json")):
        yield KEYS[int(path.name[:2])], path.read_bytes()


def mlflow_columns(folder: Path) -> Iterator[tuple[str, Any, Any]]:
    """Parse pages and map them as ``MlflowProvider.iter_history_columns`` does."""
    from portfolio.tracking.mlflow_history import page_columns

    for key, body in pages(folder):
        yield key, *page_columns(json.loads(body).get("metrics"), key)


def child_parse(folder: Path) -> dict[str, float]:
    """Time json.loads over every page (the baseline)."""
    started, cpu = time.perf_counter(), time.process_time()
    for _, body in pages(folder):
        json.loads(body)
    return {"seconds": time.perf_counter() - started, "cpu_s": time.process_time() - cpu}


def run_child(mode: str, folder: Path, url: str) -> dict:
    """Run one measurement in a fresh interpreter and return its figures."""
    args = [sys.executable, __file__, "--child", mode, "--pages", str(folder)]
    done = subprocess.run(
        [*args, "--database-url", url], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(rows: int, repeat: int, database_url: str = "") -> dict:
    """Return median/min seconds, peak RSS and the ratio to parsing, per mode."""
    with tempfile.TemporaryDirectory(prefix="bench-mlflow-") as tmp:
        folder = Path(tmp) / "pages"
        write_pages(folder, rows)
        size_mb = sum(p.stat().st_size for p in folder.glob("*.json")) / 2**20
        figures: dict[str, list[dict]] = {"parse": [], "ingest-mlflow": []}
        for i in range(repeat):
            for mode in figures:
                url = database_url or f"sqlite:///{tmp}/bench-{mode}-{i}.db"
                if database_url:
                    subprocess.run(
                        [sys.executable, __file__, "--child", "reset", "--database-url", url],
                        check=True,
                    )
                figures[mode].append(run_child(mode, folder, url))
    summary = {
        mode: {
            "median_s": round(statistics.median(r["seconds"] for r in runs), 2),
            "min_s": round(min(r["seconds"] for r in runs), 2),
            "cpu_median_s": round(statistics.median(r["cpu_s"] for r in runs), 2),
            "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
        }
        for mode, runs in figures.items()
    }
    ingest = summary["ingest-mlflow"]
    ingest["ratio_to_parse"] = round(ingest["median_s"] / summary["parse"]["median_s"], 2)
    ingest["cpu_ratio_to_parse"] = round(
        ingest["cpu_median_s"] / summary["parse"]["cpu_median_s"], 2
    )
    meta = {
        "rows": rows,
        "metrics": len(KEYS),
        "pages_mb": round(size_mb, 1),
        "repeat": repeat,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "database": "postgresql" if database_url.startswith("postgres") else "sqlite",
        "stored": figures["ingest-mlflow"][0]["series"],
    }
    return {"meta": meta, "results": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--child", choices=["parse", "ingest-mlflow", "reset"])
    parser.add_argument("--pages", type=Path)
    args = parser.parse_args()
    if args.child:
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        if args.child == "reset":
            reset(args.database_url)
            return
        if args.child == "parse":
            result = child_parse(args.pages)
        else:
            result = child_ingest(args.database_url, columns=mlflow_columns(args.pages))
        result["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(result))
        return
    print(json.dumps(measure(args.rows, args.repeat, args.database_url), indent=2))


if __name__ == "__main__":
    main()
