"""Numbers from trackers as text: one formatting for pages, feeds, headlines and exports.

Below every user (public/compare.py, tracking/snapshots.py, templating.py), so
tracking does not reach into the public pages for it. Values are untrusted: they are
only returned as floats or text for templates to escape.
"""

from __future__ import annotations

import math
from typing import Any


def as_number(value: Any) -> float | None:
    """A finite float, or None for text, NaN and infinities."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def format_value(value: Any, digits: int = 4) -> str:
    """Numbers to `digits` significant digits (see `digits_for`); NaN/inf spelled out."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        return f"{value:.{digits}g}"
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return {"NaN": "NaN", "Infinity": "∞", "-Infinity": "−∞"}[value]
    return str(value)
