"""Build Vega-Lite v5 specs from chart series.

Injection defence: every record in the inline data uses the fixed field names
below, so untrusted run names and metric keys only ever appear as data values,
as literal titles, or in the colour scale's literal domain; never as a field
name (where "." and "[" mean nested access), in a `calculate`/`filter`
expression, or as a tooltip key (tooltips compile to an expression).

Sizes, fonts, colours and y-axis tick labels live in style.py; this module assembles
the spec.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .model import (
    ChartOptions,
    ChartSeries,
    clean_label,
    ema,
    unique_labels,
    x_axis_title,
)
from .style import (
    MANY,
    NARROW,
    OG,
    PAGE,
    PALETTE,
    THUMB,
    ChartStyle,
    compact_number,
    legend_columns,
    vega_config,
    y_format,
)
from .thin import thin_series_indices

VL_VERSION = "5.21"  # the Vega-Lite release vl-convert compiles with and bundles
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
INTERACTIVE = "interactive_"  # layers named so are dropped from static renders
# The only field names a spec uses: per series, then per point after `flatten`.
FIELDS = ("run", "metric", "m", "xs", "ys", "ss", "x", "y", "s")
# Tooltip keys compile into a Vega expression, so they come from this fixed list.
_X_KEYS = {"_step": "Step", "epoch": "Epoch", "_runtime": "Runtime (s)", "_timestamp": "Time"}


def build_spec(
    title: str,
    series: Sequence[ChartSeries],
    options: ChartOptions,
    *,
    style: ChartStyle = PAGE,
    interactive: bool = True,
    thin: bool = False,
) -> dict[str, Any]:
    """Return a Vega-Lite v5 spec of the chosen runs and metrics, with its data inline.

    One metric draws one panel; several draw one row each with their own y
    scale. With smoothing the raw line is faded behind the smoothed one. The
    spec zooms (drag, shift+wheel, double-click resets) and shows values on
    hover once vega-embed runs it; static renders ignore those parts.
    Colours follow the order of the runs in `series`: give every chart of a
    project the same, stably ordered list and a run keeps its colour.
    With `thin` (static renders only) each line keeps about one point per
    pixel of `style.width` (see portfolio/charts/thin.py); the interactive
    spec, which can zoom, keeps every stored point.
    """
    selected = options.select(series)
    run_labels = options.run_labels(series)
    metric_labels = unique_labels([s.metric for s in selected], [s.metric for s in selected])
    # Colours follow every chosen run (so they agree across a project's charts);
    # the legend lists only the runs drawn here.
    domain = list(dict.fromkeys(run_labels.values()))
    drawn = {run_labels[s.key] for s in selected}
    runs = [run for run in domain if run in drawn]
    metrics = list(dict.fromkeys(metric_labels[s.metric] for s in selected))
    budget = style.width if thin else None
    values = _data_values(selected, options, run_labels, metric_labels, budget)
    smoothed = options.smoothing > 0
    flat = ["xs", "ys", "ss"] if smoothed else ["xs", "ys"]

    x_title = x_axis_title(selected, options)
    # Few ticks read better, and each label costs a text measurement when rendering.
    x_axis: dict[str, Any] = {
        "title": x_title if style.axis_titles else None,
        "tickCount": style.width // (7 * style.font_size),
    }
    y_ticks = max(2, style.height // (4 * style.font_size))
    y_axis: dict[str, Any] = {"tickCount": y_ticks}
    if max((abs(v) for r in values for v in r["xs"]), default=0) >= 10_000:
        x_axis["format"] = "~s"  # 20k, 1.5M: steps get long
    x = {"field": "x", "type": "quantitative", "axis": x_axis, "scale": {"zero": False}}
    y_scale: dict[str, Any] = {"type": "log", "nice": False} if options.log_y else {"zero": False}
    # A few pixels above and below the data: the top line is never clipped in half.
    y_scale["padding"] = math.ceil(style.line_width * 2)
    if not options.log_y:
        y_axis["format"], y_domain = y_format(values, y_ticks)
        if y_domain:
            y_scale["domain"] = y_domain
    y_title = metrics[0] if len(metrics) == 1 and style.axis_titles else None
    columns = legend_columns(runs, style)
    color = {
        "field": "run",
        "type": "nominal",
        # A literal domain: colours follow the run order, the same in every chart.
        "scale": {"domain": domain, **({"range": PALETTE} if len(domain) <= 10 else MANY)},
        "legend": {
            **({"values": runs} if runs != domain else {}),
            "title": "Run",
            "orient": "bottom",
            "columns": columns,
            "symbolType": "stroke",
            "symbolStrokeWidth": 3,
            "symbolOpacity": 1,  # not the faded raw line's
            "labelLimit": style.width // columns - 3 * style.font_size,
        },
    }

    if style.max_legend is not None and len(runs) > style.max_legend:
        color["legend"] = None

    def line(name: str, field: str, **mark: Any) -> dict[str, Any]:
        return {
            "name": name,
            # Nulls (NaN/inf gaps) break the line instead of being joined across.
            "mark": {
                "type": "line",
                "clip": True,
                "aria": False,
                "invalid": "break-paths-filter-domains",
                **mark,
            },
            "encoding": {
                "x": x,
                "y": {
                    "field": field,
                    "type": "quantitative",
                    "scale": y_scale,
                    "axis": y_axis,
                    "title": y_title,
                },
                "color": color,
            },
        }

    if smoothed:
        layers = [line("raw", "y", strokeWidth=style.line_width * 0.6, opacity=0.3)]
        layers.append(line("smoothed", "s", strokeWidth=style.line_width))
    else:
        layers = [line("raw", "y", strokeWidth=style.line_width)]
    if interactive:
        layers[0]["params"] = [_zoom_param()]
        x_key = _X_KEYS.get(options.x_axis.strip().lower(), "X value")
        layers.append(_hover_layer(x, "s" if smoothed else "y", y_scale, color, x_key, smoothed))

    spec: dict[str, Any] = {
        "$schema": SCHEMA,
        "description": _description(title, runs, metrics, x_title, options),
        "data": {"values": values},
        "transform": [{"flatten": flat, "as": [c[0] for c in flat]}],
        "config": vega_config(style),
        "padding": style.padding,
        "background": "white",
    }
    if title:
        spec["title"] = {
            "text": clean_label(title, limit=120),
            "anchor": "start",
            "offset": style.font_size,  # clear of the top line and the top tick label
        }
    unit = {"width": style.width, "height": style.height, "layer": layers}
    if len(metrics) > 1:
        spec["facet"] = {
            "row": {
                "field": "metric",
                "type": "nominal",
                "sort": {"field": "m", "op": "min"},
                "header": {"title": None, "labelAngle": 0, "labelOrient": "top"},
            }
        }
        spec["spec"] = unit
        spec["resolve"] = {"scale": {"y": "independent"}}
    else:
        spec.update(unit)
        if style.fit:
            spec["autosize"] = {"type": "fit", "contains": "padding"}
    return spec


def _headline_only(series: Sequence[ChartSeries], options: ChartOptions) -> ChartOptions:
    """The options of a chart narrowed to its first (headline) metric."""
    selected = options.select(series)
    return ChartOptions(
        metrics=options.metrics[:1] or tuple(s.metric for s in selected[:1]),
        x_axis=options.x_axis,
        smoothing=options.smoothing,
        log_y=options.log_y,
        runs=options.runs,
    )


def build_og_spec(title: str, series: Sequence[ChartSeries], options: ChartOptions) -> dict:
    """Return a static 1200x630 spec of the headline (first) metric for Open Graph images."""
    headline = _headline_only(series, options)
    return build_spec(title, series, headline, style=OG, interactive=False, thin=True)


def build_thumb_spec(series: Sequence[ChartSeries], options: ChartOptions) -> dict:
    """Return a static 260x72 spec of the headline metric for profile cards.

    No title, legend or axis titles: the card around it names the project
    and the metric. The spec's description stays, as the SVG's <title>.
    """
    headline = _headline_only(series, options)
    return build_spec("", series, headline, style=THUMB, interactive=False, thin=True)


def _data_values(
    selected: Sequence[ChartSeries],
    options: ChartOptions,
    run_labels: dict[str, str],
    metric_labels: dict[str, str],
    budget: int | None = None,
) -> list[dict[str, Any]]:
    """Return one record per series with its points as parallel arrays.

    With a `budget`, each series keeps about that many points, chosen on
    the raw line after smoothing (so the smoothed line is the full series'
    EMA) and keeping every gap, log-scale ones included.

    A `flatten` transform turns them into one row per point. Columns keep
    the spec (and the SVG render) several times smaller than row objects
    that repeat a long run name a thousand times.
    """
    metric_index = {m: i for i, m in enumerate(dict.fromkeys(s.metric for s in selected))}
    values: list[dict[str, Any]] = []
    for s in selected:
        xs, ys = s.points_with_gaps()
        record: dict[str, Any] = {
            "run": run_labels[s.key],
            "metric": metric_labels[s.metric],
            "m": metric_index[s.metric],
            "xs": [compact_number(v) for v in xs],
            # null breaks the line: a NaN/inf is a gap, never joined across.
            "ys": [None if v is None else compact_number(v) for v in ys],
        }
        if options.smoothing > 0:
            smoothed = ema([math.nan if v is None else v for v in ys], options.smoothing)
            record["ss"] = [compact_number(v) if math.isfinite(v) else None for v in smoothed]
        if options.log_y:
            # A log scale has no place for y <= 0; null points are left out.
            for column in ("ys", "ss"):
                if column in record:
                    record[column] = [
                        v if v is not None and v > 0 else None for v in record[column]
                    ]
        if budget is not None:
            keep = thin_series_indices(record["xs"], record["ys"], budget)
            for column in ("xs", "ys", "ss"):
                if column in record:
                    record[column] = [record[column][i] for i in keep]
        values.append(record)
    return values


def _zoom_param() -> dict[str, Any]:
    # Shift+wheel zooms so that scrolling the page over a chart still scrolls.
    return {
        "name": "zoom",
        "select": {"type": "interval", "zoom": "wheel![event.shiftKey]"},
        "bind": "scales",
    }


def _hover_layer(
    x: dict, field: str, y_scale: dict, color: dict, x_key: str, smoothed: bool
) -> dict[str, Any]:
    tooltip = [
        {"field": "run", "title": "Run"},
        {"field": "metric", "title": "Metric"},
        {"field": "x", "title": x_key, "type": "quantitative", "format": ","},
        {"field": "y", "title": "Value", "type": "quantitative", "format": ".5~g"},
    ]
    if smoothed:
        tooltip.append(
            {"field": "s", "title": "Smoothed", "type": "quantitative", "format": ".5~g"}
        )
    return {
        "name": INTERACTIVE + "hover",
        "mark": {"type": "point", "filled": True, "size": 48, "clip": True},
        "params": [
            {
                "name": "hover",
                "select": {
                    "type": "point",
                    "on": "pointerover",
                    "clear": "pointerout",
                    "nearest": True,
                    "fields": ["x"],
                },
            }
        ],
        "encoding": {
            "x": x,
            "y": {"field": field, "type": "quantitative", "scale": y_scale},
            "color": color,
            "opacity": {"condition": {"param": "hover", "empty": False, "value": 1}, "value": 0},
            "tooltip": tooltip,
        },
    }


def _description(
    title: str, runs: list[str], metrics: list[str], x_title: str, options: ChartOptions
) -> str:
    shown = ", ".join(runs[:5]) + (f" and {len(runs) - 5} more" if len(runs) > 5 else "")
    what = f"Line chart of {', '.join(metrics) or 'no metrics'} by {x_title.lower()}"
    plural = "s" if len(runs) != 1 else ""
    parts = [f"{what} for {len(runs)} run{plural}" + (f": {shown}" if runs else "")]
    if options.smoothing > 0:
        parts.append(f"smoothed with an exponential moving average (weight {options.smoothing:g})")
    if options.log_y:
        parts.append("on a logarithmic scale")
    head = f"{clean_label(title, limit=120)}. " if title else ""
    return head + "; ".join(parts) + "."


__all__ = [  # the styles are re-exported: they were defined here before style.py
    "FIELDS",
    "INTERACTIVE",
    "NARROW",
    "OG",
    "PAGE",
    "SCHEMA",
    "THUMB",
    "VL_VERSION",
    "ChartStyle",
    "build_og_spec",
    "build_spec",
    "build_thumb_spec",
    "y_format",
]
