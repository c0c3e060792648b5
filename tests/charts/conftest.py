"""Chart fixtures: plain series, no database or app."""

from __future__ import annotations

import math

import pytest

from portfolio.charts import ChartSeries

# Every payload carries the marker, so a test can find each place it lands.
MARK = "PWN"
RUN_PAYLOADS = [
    f"<script>alert('{MARK}')</script>",
    f'"><svg onload=alert(1)>{MARK}',
    f"javascript:alert(1)//{MARK}",
    f"<img src=x onerror=alert(1)>{MARK}",
    f"{{{{constructor.constructor('alert(1)')()}}}}{MARK}",
    f"</text><script>alert(1)</script>{MARK}",
    f"]]><!-- {MARK} --><foreignObject>",
    f"datum['x'] + \" \\\" ' ` {MARK}",
    f"\x00\x1b[31m{MARK}\u202egnp.exe\ud800",
    MARK + "A" * 10_000,
]
METRIC_PAYLOADS = [
    f"a.b[0]{MARK}",
    f"datum['x']{MARK}",
    f'" + alert(1) + "{MARK}',
    f"<script>{MARK}</script>",
    f"val/acc{{{MARK}}}\\",
]


def curve(n: int = 50, *, scale: float = 1.0, start: int = 0) -> tuple[list[int], list[float]]:
    xs = list(range(start, start + n))
    return xs, [scale * math.exp(-i / 20) + 0.01 * ((i * 7) % 5) for i in range(n)]


@pytest.fixture
def two_runs() -> list[ChartSeries]:
    """Two runs logging val/acc and train/loss."""
    out = []
    for i, name in enumerate(["baseline", "bigger lr"]):
        xs, ys = curve(scale=1 + i)
        out.append(ChartSeries(run=name, metric="val/acc", xs=xs, ys=ys, run_id=f"r{i}"))
        out.append(ChartSeries(run=name, metric="train/loss", xs=xs, ys=ys, run_id=f"r{i}"))
    return out


@pytest.fixture
def hostile_series() -> list[ChartSeries]:
    """Runs and metrics named with script, markup and expression payloads."""
    out = []
    for i, name in enumerate(RUN_PAYLOADS):
        xs, ys = curve(scale=1 + i / 10)
        metric = METRIC_PAYLOADS[i % len(METRIC_PAYLOADS)]
        out.append(ChartSeries(run=name, metric=metric, xs=xs, ys=ys, run_id=f"r{i}"))
    return out
