"""Static renders draw about one point per pixel of width and keep every gap."""

from __future__ import annotations

import math
import re

import pytest

from portfolio.charts import (
    NARROW,
    PAGE,
    THUMB,
    ChartOptions,
    ChartSeries,
    ChartStyle,
    build_spec,
    build_thumb_spec,
    render_svg,
)
from portfolio.charts.thin import thin_series_indices

_PATH_D = re.compile(r'<path[^>]*\sd="([^"]*)"')
GAP_AT = (300, 301, 650)  # a NaN then an inf, and a lone NaN later: two breaks per line


def five_runs(n: int = 1_000, *, lift: float = 0.0) -> list[ChartSeries]:
    series = []
    for r in range(5):
        xs = list(range(n))
        # Jagged, so no point is redundant and a non-thinned render draws all of them.
        ys = [lift + math.sin(i / (15 + r)) + 0.3 * ((i * 7 + r) % 5) for i in xs]
        ys[GAP_AT[0]], ys[GAP_AT[1]], ys[GAP_AT[2]] = math.nan, math.inf, math.nan
        series.append(ChartSeries(run=f"run {r}", metric="loss", xs=xs, ys=ys))
    return series


def line_paths(svg: str) -> list[str]:
    """The `d` of each drawn line (legend symbols and axes have a couple of vertices)."""
    return [d for d in _PATH_D.findall(svg) if vertices(d) > 20]


def vertices(d: str) -> int:
    return len(re.findall(r"[MLC]", d))


@pytest.mark.parametrize("style", [PAGE, NARROW], ids=["page", "narrow"])
def test_static_svg_draws_at_most_one_point_per_pixel_and_keeps_gaps(style: ChartStyle) -> None:
    series = five_runs()
    options = ChartOptions(metrics=("loss",))
    full = render_svg(build_spec("Loss", series, options, style=style, interactive=False))
    thin = render_svg(
        build_spec("Loss", series, options, style=style, interactive=False, thin=True)
    )
    full_paths, thin_paths = line_paths(full), line_paths(thin)
    assert len(thin_paths) == len(full_paths) == 5
    assert min(vertices(d) for d in full_paths) > style.width  # thinning had work to do
    for d in thin_paths:
        assert style.width // 2 < vertices(d) <= style.width + len(GAP_AT)
        assert d.count("M") == 3  # three finite runs: both gaps still break the line
    assert len(thin) < len(full) * 0.8


def test_smoothed_and_log_lines_are_thinned_with_their_gaps() -> None:
    series = five_runs(lift=1.5)
    for run in series:
        run.ys[800] = -1.0  # type: ignore[index]  # no place on a log scale: one more break
    options = ChartOptions(metrics=("loss",), smoothing=0.6, log_y=True)
    svg = render_svg(build_spec("Loss", series, options, style=PAGE, interactive=False, thin=True))
    paths = line_paths(svg)
    assert len(paths) == 10  # raw and smoothed per run
    for d in paths:
        assert vertices(d) <= PAGE.width + len(GAP_AT) + 1
    # Raw lines break at both gaps and at y <= 0; smoothed ones (still > 0 there) at the gaps.
    assert sorted(d.count("M") for d in paths) == [3] * 5 + [4] * 5


def test_interactive_spec_keeps_every_point() -> None:
    series = five_runs()
    spec = build_spec("Loss", series, ChartOptions(metrics=("loss",)), style=PAGE)
    for record in spec["data"]["values"]:
        assert len(record["xs"]) == len(record["ys"]) == 1_000
        assert [i for i, y in enumerate(record["ys"]) if y is None] == list(GAP_AT)


def test_thumbnail_is_thinned_to_its_width() -> None:
    spec = build_thumb_spec(five_runs(), ChartOptions(metrics=("loss",)))
    for record in spec["data"]["values"]:
        assert len(record["xs"]) <= THUMB.width + len(GAP_AT)
        assert sum(y is None for y in record["ys"]) == 2  # one marker per gap


def test_thin_keeps_gap_starts_ends_and_short_series() -> None:
    xs = list(range(100))
    ys: list[float | None] = [float(i % 9) for i in xs]
    ys[0] = ys[40] = ys[41] = ys[99] = None
    keep = thin_series_indices(xs, ys, 20)
    assert len(keep) <= 20 + 4
    assert {0, 40, 99} <= set(keep)  # each gap's first point
    assert {1, 39, 42, 98} <= set(keep)  # each finite run's ends
    assert keep == sorted(keep)
    assert thin_series_indices(xs[:10], ys[:10], 20) == list(range(10))
    # Out of order x: nothing is thinned rather than thinned wrong.
    assert thin_series_indices(xs[::-1], ys, 20) == list(range(100))
