"""Cleaning untrusted tracker values: flattening, NaN spellings, size caps."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from portfolio.tracking import values


def test_summary_is_flattened_with_numbers_as_float() -> None:
    """Nested dicts become "a.b"; numbers float; NaN strings float; internals dropped."""
    summary = values.flatten_summary(
        {
            "_wandb": {"runtime": 3},
            "_step": 9,
            "acc": 1,
            "loss": "NaN",
            "up": "Infinity",
            "down": "-Infinity",
            "real_nan": math.nan,
            "best": {"acc": 0.9, "deep": {"x": 2}},
            "note": "<b>text</b>",
            "flag": True,
            "missing": None,
            "table": {"_type": "table-file", "path": "x"},
            "list": [1, 2],
        }
    )
    assert summary.pop("loss") != summary.pop("real_nan")  # both nan
    assert summary == {
        "acc": 1.0,
        "up": math.inf,
        "down": -math.inf,
        "best.acc": 0.9,
        "best.deep.x": 2.0,
        "note": "<b>text</b>",
        "flag": "true",
        "missing": None,
        "list": "[1, 2]",
    }


def test_config_unwraps_and_keeps_types() -> None:
    """W&B's {"value": v} shape is unwrapped; ints and bools keep their type."""
    config = values.flatten_config(
        {
            "_wandb": {"value": {"cli_version": "0.31.0"}},
            "lr": {"desc": None, "value": 0.001},
            "epochs": {"value": 4},
            "amp": {"value": True},
            "opt": {"value": {"name": "adam", "betas": [0.9, 0.999]}},
        },
        wrapped=True,
    )
    assert config == {
        "lr": 0.001,
        "epochs": 4,
        "amp": True,
        "opt.name": "adam",
        "opt.betas": "[0.9, 0.999]",
    }


def test_absurd_sizes_are_capped() -> None:
    """10,000-character names and keys are cut, and only MAX_KEYS keys are kept."""
    long = "<script>" + "x" * 10_000
    assert len(values.clean_text(long)) == values.MAX_TEXT
    assert values.clean_text(long).endswith("…")
    config = values.flatten_config({f"k{i}": i for i in range(values.MAX_KEYS + 50)})
    assert len(config) == values.MAX_KEYS
    summary = values.flatten_summary({long: long})
    ((key, value),) = summary.items()
    assert len(key) == len(value) == values.MAX_TEXT
    deep: dict = {"v": 1}
    for _ in range(20):
        deep = {"d": deep}
    (flat_key,) = values.flatten_config(deep)
    assert flat_key.count(".") == values.MAX_DEPTH - 1
    assert len(values.clean_tags(f"t{i}" for i in range(500))) == values.MAX_TAGS


def test_history_values_pick_numbers() -> None:
    """Rows keep numeric user metrics only; NaN arrives as float or as the string."""
    row = {"_step": 3, "_runtime": 1.5, "loss": "NaN", "acc": 1, "img": {"_type": "image"}}
    row |= {"flag": True, "text": "hi", "inf": "Infinity"}
    got = values.history_values(row, None)
    assert set(got) == {"loss", "acc", "inf"} and math.isnan(got["loss"])
    assert values.history_values(row, ["acc", "absent"]) == {"acc": 1.0}
    assert values.step_of(row) == 3 and values.step_of({"_step": "x"}) is None


def test_times_become_aware_utc() -> None:
    """W&B's naive times are UTC; Go's nanoseconds are trimmed."""
    assert values.parse_time("2027-01-04T09:00:00") == datetime(2027, 1, 4, 9, tzinfo=UTC)
    nanos = values.parse_time("2026-11-26T11:31:14.679717988Z")
    assert nanos == datetime(2026, 11, 26, 11, 31, 14, 679717, tzinfo=UTC)
    assert values.parse_time("not a time") is None and values.parse_time(None) is None


def test_numeric_history_keys_from_wandb_shape() -> None:
    """Only numeric, non-internal keys are charted."""
    keys = {
        "keys": {
            "loss": {"typeCounts": [{"type": "number", "count": 3}]},
            "img": {"typeCounts": [{"type": "image-file", "count": 1}]},
            "_step": {"typeCounts": [{"type": "number", "count": 3}]},
        },
        "lastStep": 2,
    }
    assert values.numeric_history_keys(keys) == ("loss",)


def test_integers_beyond_float_range_become_infinities() -> None:
    """A tracker may send 10**400 as a JSON integer: it reads as ±inf, like 1e400 does."""
    assert values.to_number(10**400) == math.inf
    assert values.to_number(-(10**400)) == -math.inf
    assert values.to_number(3) == 3.0 and values.to_number(True) is None
    summary = values.flatten_summary({"huge": 10**400, "ok": 0.5})
    assert summary["huge"] == math.inf and summary["ok"] == 0.5
