"""Benchmark chart rendering: spec + SVG for 5 series x 1,000 points (target <= 100 ms warm).

    python bench/bench_charts.py [--repeat 30] [--json]

Each case is run once to warm up (vl-convert starts its JavaScript runtime on
first use, about 0.5 s), then `--repeat` times; the median, p90 and minimum
wall times and the median CPU time are printed. Times include everything the
sync job does per chart: build_spec (smoothing included) and render_svg
(vl-convert, output check, id prefixing).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import vl_convert

from portfolio.charts import (
    ChartOptions,
    ChartSeries,
    build_og_spec,
    build_spec,
    render_png,
    render_svg,
)

TARGET_MS = 100.0


def make_series(runs: int = 5, points: int = 1000, seed: int = 6) -> list[ChartSeries]:
    """Noisy decaying curves on irregular steps, as LTTB-downsampled W&B history looks."""
    rng = random.Random(seed)
    out = []
    for r in range(runs):
        step, xs, acc, loss = 0, [], [], []
        for i in range(points):
            step += rng.randint(1, 40)
            xs.append(step)
            level = math.exp(-i / 250) * (1 + r / 8)
            loss.append(level + rng.gauss(0, 0.04))
            acc.append(1 - level / 2 + rng.gauss(0, 0.02))
        name = f"sweep-{r}-lr{3 * 10 ** -(r + 2):.0e}-bs{32 << r}-cosine-warmup"
        out.append(ChartSeries(run=name, metric="val/acc", xs=xs, ys=acc, run_id=str(r)))
        out.append(ChartSeries(run=name, metric="train/loss", xs=xs, ys=loss, run_id=str(r)))
    return out


def measure(fn: Callable[[], object], repeat: int) -> dict[str, float]:
    """Time `fn`: wall clock, and CPU time of this process (all threads, vl-convert's too).

    CPU time barely moves when other processes compete for the cores, so it
    is the steadier figure on a shared machine; wall time is what a user waits.
    """
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    wall.sort()
    return {
        "median_ms": round(statistics.median(wall), 1),
        "p90_ms": round(wall[min(len(wall) - 1, int(len(wall) * 0.9))], 1),
        "min_ms": round(wall[0], 1),
        "cpu_median_ms": round(statistics.median(cpu), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    series = make_series()
    one = ChartOptions(metrics=["val/acc"])
    cases: dict[str, Callable[[], object]] = {
        "svg 5x1000 raw": lambda: render_svg(build_spec("val/acc", series, one)),
        "svg 5x1000 smoothed 0.6": lambda: render_svg(
            build_spec("val/acc", series, ChartOptions(metrics=["val/acc"], smoothing=0.6))
        ),
        "svg 2 metrics x 5x1000 smoothed log": lambda: render_svg(
            build_spec(
                "loss and accuracy",
                series,
                ChartOptions(metrics=["train/loss", "val/acc"], smoothing=0.6, log_y=True),
            )
        ),
        "build_spec only 5x1000 smoothed": lambda: build_spec(
            "val/acc", series, ChartOptions(metrics=["val/acc"], smoothing=0.6)
        ),
        "og png 1200x630": lambda: render_png(build_og_spec("val/acc", series, one)),
    }
    start = time.perf_counter()
    render_svg(build_spec("cold", series[:1], one))
    cold_ms = round((time.perf_counter() - start) * 1000, 1)

    results = {name: measure(fn, args.repeat) for name, fn in cases.items()}
    sizes = {
        "svg_bytes": len(render_svg(build_spec("val/acc", series, one))),
        "spec_json_bytes": len(json.dumps(build_spec("val/acc", series, one))),
    }
    meta = {
        "python": platform.python_version(),
        "vl_convert": vl_convert.__version__ if hasattr(vl_convert, "__version__") else "?",
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "repeat": args.repeat,
        "first_render_ms": cold_ms,
    }
    if args.json:
        print(json.dumps({"meta": meta, "sizes": sizes, "results": results}, indent=2))
        return
    print(f"chart rendering ({meta})")
    print(f"  sizes: {sizes}")
    for name, r in results.items():
        flag = ""
        if name.startswith("svg 5x1000"):
            flag = "  ok" if r["median_ms"] <= TARGET_MS else f"  OVER {TARGET_MS:.0f} ms target"
        print(
            f"  {name:40s} median {r['median_ms']:7.1f} ms  p90 {r['p90_ms']:7.1f}"
            f"  min {r['min_ms']:7.1f}  cpu {r['cpu_median_ms']:7.1f}{flag}"
        )


if __name__ == "__main__":
    main()
