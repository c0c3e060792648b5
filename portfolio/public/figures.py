"""Charts for a project page, built from stored snapshots (never from W&B).

Each chart the learner configured becomes a Vega-Lite spec over the visible
runs' downsampled series, rendered to SVG once per (snapshots, options) and
cached. The SVGs draw about one point per pixel of width (`thin=True`); the
full spec is served as JSON for the interactive view, which can zoom.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlmodel import Session, select

from ..charts import (
    NARROW,
    PAGE,
    STEP,
    ChartOptions,
    ChartRenderError,
    ChartSeries,
    ChartStyle,
    DataTable,
    build_og_spec,
    build_spec,
    build_thumb_spec,
    chart_cache_key,
    data_table,
    default_metric,
    render_png,
    render_svg,
)
from ..extensions import cache
from ..models import MetricSeries, Project, RunLink, RunSnapshot

logger = logging.getLogger(__name__)
MAX_CHARTS = 8
MAX_METRICS_PER_CHART = 4
_SVG_SIZE = re.compile(r'<svg\b[^>]*?\swidth="(\d+(?:\.\d+)?)"[^>]*?\sheight="(\d+(?:\.\d+)?)"')


def svg_size(svg: str | None) -> tuple[int, int] | None:
    """The drawn size of a chart SVG, for the img's width/height.

    The page reserves the chart's box before the image arrives (it may load
    only when scrolled near), so nothing below it jumps when it does.
    """
    match = _SVG_SIZE.search(svg or "")
    return (round(float(match[1])), round(float(match[2]))) if match else None


@dataclass
class Figure:
    index: int
    title: str
    spec: dict[str, Any]
    svg: str | None
    table: DataTable
    svg_narrow: str | None = None  # the same chart laid out for a phone

    @property
    def size(self) -> tuple[int, int] | None:
        return svg_size(self.svg)

    @property
    def size_narrow(self) -> tuple[int, int] | None:
        return svg_size(self.svg_narrow)


def chart_options(config: dict[str, Any], visible_ids: set[int]) -> ChartOptions:
    """Turn a stored chart config into options, keeping only visible runs."""
    runs = [str(r) for r in config.get("runs") or [] if int(r) in visible_ids]
    return ChartOptions(
        metrics=tuple(config.get("metrics") or ())[:MAX_METRICS_PER_CHART],
        x_axis=config.get("x") or STEP,
        smoothing=float(config.get("smoothing") or 0.0),
        log_y=bool(config.get("log_y")),
        runs=frozenset(runs) if runs else None,
    )


def default_charts(metric_keys: list[str], headline: str) -> list[dict[str, Any]]:
    """With nothing configured, chart one sensible metric (see `default_metric`)."""
    key = default_metric(metric_keys, headline)
    return (
        [{"metrics": [key], "x": STEP, "smoothing": 0.0, "log_y": False, "runs": []}] if key else []
    )


def series_for(
    session: Session, runs: list[tuple[RunLink, RunSnapshot]], options: ChartOptions
) -> list[ChartSeries]:
    snapshot_ids = [snap.id for _, snap in runs]
    wanted = set(options.metrics)
    if options.x_axis != STEP:
        wanted.add(options.x_axis)
    rows = session.exec(
        select(MetricSeries).where(
            MetricSeries.snapshot_id.in_(snapshot_ids), MetricSeries.key.in_(wanted)
        )
    ).all()
    by_snapshot: dict[int, dict[str, MetricSeries]] = {}
    for row in rows:
        by_snapshot.setdefault(row.snapshot_id, {})[row.key] = row
    series: list[ChartSeries] = []
    for link, snap in runs:
        metrics = by_snapshot.get(snap.id, {})
        for key in options.metrics:
            row = metrics.get(key)
            if row is None or not row.points:
                continue
            xs = [p[0] for p in row.points]
            ys = [p[1] for p in row.points]
            if options.x_axis != STEP:
                xs = _x_from_metric(xs, metrics.get(options.x_axis))
                if xs is None:
                    continue
            series.append(
                ChartSeries(
                    run=link.label or snap.name or snap.run_id,
                    metric=key,
                    xs=xs,
                    ys=ys,
                    x_label=None if options.x_axis == STEP else options.x_axis,
                    run_id=str(link.id),
                )
            )
    return series


def _x_from_metric(steps: list[float], x_series: MetricSeries | None) -> list[float] | None:
    """Map steps onto a logged x metric such as epoch by interpolating over its steps."""
    if x_series is None:
        return None
    pts = [(p[0], p[1]) for p in x_series.points if p[1] is not None]
    if len(pts) < 1:
        return None
    sx = np.array([p[0] for p in pts], dtype=float)
    sy = np.array([p[1] for p in pts], dtype=float)
    return np.interp(np.array(steps, dtype=float), sx, sy).tolist()


def build_figures(
    session: Session, project: Project, runs: list[tuple[RunLink, RunSnapshot]], metric_keys
) -> list[Figure]:
    """Every configured chart of the project, each with an SVG and a data table."""
    configs = project.charts or default_charts(metric_keys, project.headline_metric)
    visible = {link.id for link, _ in runs}
    figures = []
    for index, config in enumerate(configs[:MAX_CHARTS]):
        try:
            options = chart_options(config, visible)
        except (ValueError, TypeError):
            logger.warning("skipping an invalid chart config on project %s", project.id)
            continue
        series = series_for(session, runs, options)
        if not options.select(series):  # nothing drawable: no empty axes
            continue
        title = config.get("title") or " and ".join(options.metrics)
        key = chart_cache_key([snap.id for _, snap in runs], options) + f":{title}"
        spec = build_spec(title, series, options, style=PAGE)
        wide = _cached_svg(f"svg:{key}", project, _static(title, series, options, style=PAGE))
        narrow = _cached_svg(f"svgn:{key}", project, _static(title, series, options, style=NARROW))
        figures.append(Figure(index, title, spec, wide, data_table(series, options), narrow))
    return figures


def _static(
    title: str, series: list[ChartSeries], options: ChartOptions, *, style: ChartStyle
) -> Callable[[], dict[str, Any]]:
    """A builder of the thinned, static spec: built only when the cache misses."""
    return lambda: build_spec(title, series, options, style=style, interactive=False, thin=True)


def _cached_svg(key: str, project: Project, build: Callable[[], dict[str, Any]]) -> str | None:
    """Render the spec `build` returns to SVG once per key; None (logged) when rendering fails."""
    svg = cache.get(key)
    if svg is None:
        try:
            svg = render_svg(build())
        except ChartRenderError:
            logger.exception("chart rendering failed on project %s", project.id)
            return None
        cache.set(key, svg)
    return svg


def _first_chart(
    session: Session, project: Project, runs: list[tuple[RunLink, RunSnapshot]]
) -> tuple[ChartOptions, list[ChartSeries]] | None:
    """The first chart with something to draw among the visible runs; None without one.

    The configured charts in order, then the default metric: a chart whose
    only runs are hidden (or whose metric the visible runs lack) is passed
    over, so a thumbnail or OG image is never empty axes.
    """
    from .service import metric_keys  # service imports this module

    keys = metric_keys(session, [snap.id for _, snap in runs])
    visible = {link.id for link, _ in runs}
    for config in [*(project.charts or []), *default_charts(keys, project.headline_metric)]:
        try:
            options = chart_options(config, visible)
        except (ValueError, TypeError):
            continue
        if config.get("runs") and options.runs is None:
            continue  # every run it was made for is hidden now
        series = series_for(session, runs, options)
        if options.select(series):
            return options, series
    return None


def og_png(
    session: Session, project: Project, runs: list[tuple[RunLink, RunSnapshot]]
) -> bytes | None:
    """The project's first chart with its title, as a 1200×630 PNG; None without data."""
    chart = _first_chart(session, project, runs)
    if chart is None:
        return None
    options, series = chart
    return render_png(build_og_spec(project.title, series, options))


def thumbnail_svg(
    session: Session, project: Project, runs: list[tuple[RunLink, RunSnapshot]]
) -> str | None:
    """A small SVG of the first chart's headline metric for profile cards, cached per data.

    None when there is nothing to draw or drawing failed (the card shows no
    chart then; a profile page never fails over one).
    """
    chart = _first_chart(session, project, runs)
    if chart is None:
        return None
    options, series = chart
    key = "thumb:" + chart_cache_key([snap.id for _, snap in runs], options, variant="thumb")
    svg = cache.get(key)
    if svg is None:
        try:
            svg = render_svg(build_thumb_spec(series, options))
        except ChartRenderError:
            logger.exception("thumbnail rendering failed on project %s", project.id)
            return None
        cache.set(key, svg)
    return svg
