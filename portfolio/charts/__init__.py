"""Metric charts: Vega-Lite specs from plain series, rendered to SVG/PNG by vl-convert.

Database-free: callers pass `ChartSeries` and `ChartOptions` and cache what
comes back under `chart_cache_key(...)`. Served pages use `render_svg`; with
JavaScript on, portfolio/static/js/charts.js upgrades each chart to an
interactive vega-embed view of the same spec, using `vega_embed_bundle()`.
"""

from .bundle import bundle_filename, bundle_version, vega_embed_bundle, write_bundle
from .cache import chart_cache_key
from .model import STEP, ChartOptions, ChartSeries, clean_label, default_metric, ema
from .render import ChartRenderError, check_svg, render_png, render_svg, static_spec
from .spec import VL_VERSION, build_og_spec, build_spec, build_thumb_spec
from .style import NARROW, OG, PAGE, THUMB, ChartStyle
from .table import TABLE_COLUMNS, DataTable, TableRow, data_table, distinguishing_digits

__all__ = [
    "NARROW",
    "OG",
    "PAGE",
    "STEP",
    "TABLE_COLUMNS",
    "THUMB",
    "VL_VERSION",
    "ChartOptions",
    "ChartRenderError",
    "ChartSeries",
    "ChartStyle",
    "DataTable",
    "TableRow",
    "build_og_spec",
    "build_spec",
    "build_thumb_spec",
    "bundle_filename",
    "bundle_version",
    "chart_cache_key",
    "check_svg",
    "clean_label",
    "data_table",
    "default_metric",
    "distinguishing_digits",
    "ema",
    "render_png",
    "render_svg",
    "static_spec",
    "vega_embed_bundle",
    "write_bundle",
]
