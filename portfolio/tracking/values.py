"""Turn untrusted tracker values into plain, size-capped data.

Values stay plain text and numbers: escaping is the templates' job. What we do here is
refuse absurd sizes (a 10,000-character run name, a config with 50,000 keys) so one run
cannot bloat a snapshot or a page, and give every provider the same shapes:

- text (names, tags, keys, string values) is cut to ``MAX_TEXT`` characters, ending in "…";
- summary: nested dicts flattened to "a.b" keys, numbers as float (W&B's "NaN",
  "Infinity", "-Infinity" strings become float nan/±inf), booleans as "true"/"false",
  other values as (capped) JSON text; keys starting with "_" (W&B internals such as
  ``_wandb``, ``_runtime``, ``_step``; top level only) and media objects (dicts with a
  "_type") are dropped;
- config: the same, minus number coercion (an int stays an int, a bool a bool), after
  unwrapping W&B's stored ``{key: {"value": v, "desc": ...}}`` shape when asked to;
- at most ``MAX_KEYS`` entries per mapping, ``MAX_TAGS`` tags and ``MAX_METRICS`` metrics:
  the rest are dropped (first come, first kept), nesting beyond ``MAX_DEPTH`` becomes text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from .provider import ConfigValue, SummaryValue

MAX_TEXT = 1_000
MAX_KEYS = 500
MAX_TAGS = 50
MAX_METRICS = 100
MAX_DEPTH = 6
NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def clean_text(value: Any, limit: int = MAX_TEXT) -> str:
    """Return ``value`` as text of at most ``limit`` characters."""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_number(value: Any) -> float | None:
    """Return a history/summary value as float, or None when it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return value
    if isinstance(value, int):
        # JSON parses a literal like 1e400 to inf but 10**400 to an int that float()
        # refuses; give both the same infinity instead of failing the whole sync.
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    if isinstance(value, str):
        return NON_FINITE.get(value)
    return None


def clean_tags(tags: Iterable[Any] | None) -> tuple[str, ...]:
    """Return distinct tags as capped text, in their original order."""
    seen: dict[str, None] = {}
    for tag in tags or ():
        if len(seen) >= MAX_TAGS:
            break
        seen.setdefault(clean_text(tag, 200), None)
    return tuple(seen)


def _as_text(value: Any) -> str:
    try:
        text = json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        text = str(value)
    return clean_text(text)


def _flatten(
    mapping: Mapping[str, Any],
    prefix: str,
    depth: int,
    out: dict[str, Any],
    *,
    config: bool,
    wrapped: bool = False,
) -> None:
    for raw_key, raw in mapping.items():
        if len(out) >= MAX_KEYS:
            return
        key = str(raw_key)
        if depth == 0 and key.startswith("_"):
            continue
        if wrapped and depth == 0 and isinstance(raw, Mapping) and "value" in raw:
            raw = raw["value"]  # W&B's stored shape: {key: {"value": v, "desc": ...}}
        full = clean_text(f"{prefix}{key}")
        if isinstance(raw, Mapping):
            if "_type" in raw:
                continue  # media, tables, histograms: not a number or a setting
            if depth + 1 < MAX_DEPTH:
                _flatten(raw, f"{full}.", depth + 1, out, config=config)
                continue
        if full not in out:
            out[full] = _scalar(raw, config=config)


def _scalar(value: Any, *, config: bool) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return value if config else ("true" if value else "false")
    if isinstance(value, int) and config:
        return value
    number = to_number(value)
    if number is not None:
        return number
    if isinstance(value, str):
        return clean_text(value)
    return _as_text(value)


def flatten_summary(summary: Mapping[str, Any] | None) -> dict[str, SummaryValue]:
    """Flatten a run summary into ``{"a.b": float | str | None}``."""
    out: dict[str, Any] = {}
    _flatten(summary or {}, "", 0, out, config=False)
    return out


def flatten_config(
    config: Mapping[str, Any] | None, *, wrapped: bool = False
) -> dict[str, ConfigValue]:
    """Flatten a config into ``{"a.b": scalar}``; ``wrapped`` unwraps W&B's stored shape."""
    out: dict[str, Any] = {}
    _flatten(config or {}, "", 0, out, config=True, wrapped=wrapped)
    return out


def metric_keys(keys: Iterable[str]) -> tuple[str, ...]:
    """Return at most ``MAX_METRICS`` user metric names (no ``_`` internals, capped text)."""
    picked: dict[str, None] = {}
    for key in keys:
        if len(picked) >= MAX_METRICS:
            break
        if not key.startswith("_") and len(key) <= MAX_TEXT:
            picked.setdefault(key, None)
    return tuple(picked)


def numeric_history_keys(history_keys: Mapping[str, Any] | None) -> tuple[str, ...]:
    """Pick the numeric metrics from W&B's ``historyKeys`` object."""
    keys = (history_keys or {}).get("keys") or {}
    numeric = []
    for key, info in keys.items():
        types = {t.get("type") for t in (info or {}).get("typeCounts") or []}
        if types & {"number", "nan", "int", "float"}:
            numeric.append(str(key))
    return metric_keys(sorted(numeric))


def history_values(row: Mapping[str, Any], keys: Iterable[str] | None) -> dict[str, float]:
    """Return the numeric values of ``keys`` (or of all user metrics) in one history row."""
    # hot loop (millions of rows): exact type checks, no helper calls for plain numbers
    out: dict[str, float] = {}
    items = row.items() if keys is None else ((k, row.get(k)) for k in keys)
    for key, value in items:
        kind = type(value)
        if kind is float or kind is int:
            number: float | None = float(value)
        elif kind is str:
            number = NON_FINITE.get(value)
        else:
            continue
        if number is None or (keys is None and key[:1] == "_"):
            continue
        out[key] = number
        if len(out) >= MAX_METRICS and keys is None:
            break
    return out


def step_rows(
    rows: Iterable[Mapping[str, Any]], keys: Iterable[str] | None = None
) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """Pair parsed history rows with their step, values untouched (rows without one go).

    The values are sorted out per column by ``downsample.SeriesAccumulator``, which is
    much cheaper than a Python loop over every value of millions of rows.
    """
    if keys is None:
        for row in rows:
            step = step_of(row)
            if step is not None:
                yield step, row
        return
    wanted = tuple(keys)
    for row in rows:
        step = step_of(row)
        if step is not None:
            yield step, {key: row[key] for key in wanted if key in row}


def step_of(row: Mapping[str, Any]) -> int | None:
    """Return a row's ``_step`` as int, or None when it has none."""
    step = row.get("_step")
    kind = type(step)  # exact types: bool is not a step, and this runs once per row
    if kind is int:
        return step
    if kind is float and math.isfinite(step):
        return int(step)
    return None


def parse_time(value: Any) -> datetime | None:
    """Parse W&B's ISO times (naive means UTC) into aware UTC datetimes."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    if "." in text:  # Go writes nanoseconds; Python takes at most microseconds
        head, _, rest = text.partition(".")
        digits = "".join(c for c in rest if c.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
