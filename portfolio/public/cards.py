"""The site's own social-card image, for pages that have no chart of their own."""

from __future__ import annotations

import hashlib
from typing import Any

from ..charts.render import render_png
from ..extensions import cache

TITLE = "Seasons"
TAGLINE = "One machine learning project per quarter, shipped in public."
WIDTH, HEIGHT = 1200, 630


def site_card_spec() -> dict[str, Any]:
    """A 1200×630 Vega-Lite picture of the name and tagline (fonts are vl-convert's own)."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": WIDTH,
        "height": HEIGHT,
        "padding": 0,
        "autosize": "none",
        "background": "#1f2a44",
        "config": {"view": {"stroke": None}},
        "data": {
            "values": [
                {"x": 80, "y": 250, "t": TITLE, "s": 110, "c": "#ffffff"},
                {"x": 80, "y": 370, "t": TAGLINE, "s": 34, "c": "#c9d3ea"},
            ]
        },
        "mark": {
            "type": "text",
            "align": "left",
            "baseline": "middle",
            "fontWeight": "bold",
            "font": "sans-serif",
        },
        "encoding": {
            "x": {
                "field": "x",
                "type": "quantitative",
                "scale": {"domain": [0, WIDTH]},
                "axis": None,
            },
            "y": {
                "field": "y",
                "type": "quantitative",
                "scale": {"domain": [0, HEIGHT], "reverse": True},
                "axis": None,
            },
            "text": {"field": "t"},
            "size": {"field": "s", "type": "quantitative", "scale": None},
            "color": {"field": "c", "type": "nominal", "scale": None},
        },
    }


def site_card_png() -> tuple[bytes, str]:
    """The PNG and its ETag; rendered once, then served from the cache."""
    spec = site_card_spec()
    key = "og:site:" + hashlib.sha256(repr(spec).encode()).hexdigest()[:16]
    png = cache.get(key)
    if png is None:
        png = render_png(spec)
        cache.set(key, png)
    return png, key.rsplit(":", 1)[1]
