"""Stable cache keys for rendered charts."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import cache
from importlib.metadata import PackageNotFoundError, version

from .model import ChartOptions
from .spec import VL_VERSION

# Bump when build_spec or the renderers change what they produce.
SPEC_REVISION = 3  # 2: gaps, tick formats, y padding, narrow layout; 3: thinned static lines


@cache
def _renderer_version() -> str:
    try:
        return version("vl-convert-python")
    except PackageNotFoundError:  # pragma: no cover - installed from source
        return "unknown"


def chart_cache_key(
    snapshot_ids: Iterable[int | str],
    options: ChartOptions,
    *,
    variant: str = "svg",
    title: str = "",
) -> str:
    """Return a hex key that changes when the data, the options or the renderer change.

    Snapshot ids are sorted (a new sync makes a new snapshot id, so the ids
    stand for the data) but metric order is kept (it orders the panels).
    `variant` tells apart the outputs of one chart ("svg", "png", "spec");
    pass the chart's `title` too when it is not fixed by the snapshots.
    """
    payload = {
        "rev": SPEC_REVISION,
        "vl": VL_VERSION,
        "renderer": _renderer_version(),
        "variant": variant,
        "title": title,
        "snapshots": sorted(str(i) for i in snapshot_ids),
        "metrics": list(options.metrics),
        "x": options.x_axis,
        "smoothing": round(options.smoothing, 4),
        "log_y": options.log_y,
        "runs": None if options.runs is None else sorted(options.runs),
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
