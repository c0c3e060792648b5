"""The real, unmodified wandb.Api against the loopback fake W&B, through our provider."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devtools.wandb.fakeserver import FakeRun, FakeWandb, basic_auth
from portfolio.tracking.downsample import SeriesAccumulator
from portfolio.tracking.provider import (
    MissingApiKey,
    NotFound,
    RateLimited,
    TrackingError,
    TrackingProvider,
    Unauthorized,
    Unavailable,
    get_provider,
)
from portfolio.tracking.wandb_provider import WandbProvider

from .conftest import TEST_KEY, make_provider

LONG_NAME = "<img src=x onerror=alert(1)>" + "n" * 10_000
HISTORY = [
    {"_step": 0, "_runtime": 0.1, "loss": 1.0, "acc": 0.1},
    {"_step": 1, "_runtime": 0.2, "loss": math.nan, "acc": 0.2},
    {"_step": 2, "_runtime": 0.3, "loss": 0.5, "acc": math.inf, "media": {"_type": "image"}},
    {"_step": 3, "_runtime": 0.4, "loss": 0.25, "val/loss": 0.3},
]


def add_run(fake: FakeWandb, run_id: str = "abc123", **fields: object) -> FakeRun:
    """Add a run with known values to the fake server."""
    run = FakeRun(
        entity="learner",
        project="mnist",
        run_id=run_id,
        display_name=LONG_NAME,
        state="finished",
        tags=["portfolio"],
        config={"lr": 0.001, "epochs": 3, "opt": {"name": "adam"}, "<b>x</b>": "<i>y</i>"},
        summary={"loss": math.nan, "acc": 0.9, "best": {"acc": 0.95}, "note": "done"},
        history=[dict(row) for row in HISTORY],
        created_at="2027-01-04T09:00:00",
        heartbeat_at="2027-01-04T10:30:00",
    )
    for key, value in fields.items():
        setattr(run, key, value)
    return fake.add_run(run)


def nan_safe(value: object) -> object:
    """Replace float nan (which never equals itself) by a marker, deeply."""
    if isinstance(value, float) and math.isnan(value):
        return "<nan>"
    if isinstance(value, dict):
        return {k: nan_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [nan_safe(v) for v in value]
    return value


def same(a: object, b: object) -> bool:
    """Compare values treating nan as equal to nan (dict order does not matter)."""
    return nan_safe(a) == nan_safe(b)


def test_fetch_run_maps_fields(fake_wandb: FakeWandb, provider: WandbProvider) -> None:
    """Name, state, times, tags, summary and config arrive cleaned and capped."""
    add_run(fake_wandb)
    run = provider.fetch_run("https://wandb.ai/learner/mnist/runs/abc123/overview")
    assert run.provider == "wandb" and run.path == "learner/mnist/abc123"
    assert run.run_id == "abc123" and run.state == "finished" and not run.is_running
    assert run.name.startswith("<img src=x") and len(run.name) == 1_000  # plain text, capped
    assert run.url == f"{fake_wandb.url}/learner/mnist/runs/abc123"
    assert run.created_at == datetime(2027, 1, 4, 9, tzinfo=UTC)
    assert run.heartbeat_at == datetime(2027, 1, 4, 10, 30, tzinfo=UTC)
    assert run.tags == ("portfolio",)
    assert same(run.summary, {"loss": math.nan, "acc": 0.9, "best.acc": 0.95, "note": "done"})
    assert run.config == {"lr": 0.001, "epochs": 3, "opt.name": "adam", "<b>x</b>": "<i>y</i>"}
    assert run.history_keys == ("acc", "loss", "val/loss") and run.history_rows == 4


def test_what_arrived_at_the_server(fake_wandb: FakeWandb, provider: WandbProvider) -> None:
    """Viewer then Run, with the run's variables and Basic auth; no telemetry posts."""
    add_run(fake_wandb)
    provider.fetch_run("learner/mnist/abc123")
    assert fake_wandb.operations() == ["Viewer", "Run"]
    run_query = fake_wandb.received[-1]
    assert run_query.variables == {"entity": "learner", "project": "mnist", "name": "abc123"}
    assert {r.authorization for r in fake_wandb.received} == {basic_auth(TEST_KEY)}
    assert {r.path for r in fake_wandb.received} == {"/graphql"}


@pytest.mark.parametrize("nan_strings", [False, True])
def test_history_streams_with_nan_both_ways(
    fake_wandb: FakeWandb, provider: WandbProvider, nan_strings: bool
) -> None:
    """History values become floats whether W&B sends bare NaN or the string "NaN"."""
    fake_wandb.nan_strings = nan_strings
    add_run(fake_wandb)
    rows = list(provider.iter_history("learner/mnist/abc123"))
    assert [step for step, _ in rows] == [0, 1, 2, 3]
    accumulated = SeriesAccumulator().extend(rows).arrays()
    got = {key: (x.tolist(), y.tolist()) for key, (x, y) in accumulated.items()}
    expected = {
        "loss": ([0, 1, 2, 3], [1.0, math.nan, 0.5, 0.25]),
        "acc": ([0, 1, 2], [0.1, 0.2, math.inf]),
        "val/loss": ([3], [0.3]),
    }  # no _runtime, no media: internals and non-numbers are not metrics
    assert same(got, expected)
    only_loss = list(provider.iter_history("learner/mnist/abc123", ["loss"]))
    assert [row for _, row in only_loss][0] == {"loss": 1.0}
    assert all(set(row) == {"loss"} for _, row in only_loss)
    assert "HistoryPage" in fake_wandb.operations()
    page = next(r for r in fake_wandb.received if r.operation == "HistoryPage")
    assert page.variables["minStep"] == 0 and page.variables["maxStep"] == 4


def test_history_pages_through_big_runs(fake_wandb: FakeWandb, wandb_home: Path) -> None:
    """A run longer than one page is read page by page."""
    add_run(fake_wandb, history=[{"_step": i, "loss": float(i)} for i in range(2_500)])
    provider = make_provider(fake_wandb, wandb_home)
    provider.page_size = 1_000
    steps = [step for step, _ in provider.iter_history("learner/mnist/abc123")]
    assert steps == list(range(2_500))
    assert fake_wandb.operations().count("HistoryPage") == 3


def test_list_runs_by_tag(fake_wandb: FakeWandb, provider: WandbProvider) -> None:
    """Only runs carrying the tag come back, and the filter arrives as Mongo JSON."""
    add_run(fake_wandb, "r1", created_at="2027-01-01T00:00:00")
    add_run(fake_wandb, "r2", tags=["scratch"])
    add_run(fake_wandb, "r3", tags=["portfolio", "best"], created_at="2027-01-02T00:00:00")
    runs = provider.list_runs("https://wandb.ai/learner/mnist", tags=["portfolio"])
    assert [r.run_id for r in runs] == ["r1", "r3"]
    assert runs[1].config["lr"] == 0.001  # full data in the one listing query
    listing = next(r for r in fake_wandb.received if r.operation == "Runs")
    assert listing.variables["filters"] == '{"tags": {"$in": ["portfolio"]}}'
    assert fake_wandb.operations() == ["Viewer", "Runs"]
    assert len(provider.list_runs("learner/mnist")) == 3


def test_missing_and_bad_keys(fake_wandb: FakeWandb, wandb_home: Path) -> None:
    """No key, a malformed key and a wrong key are Unauthorized, before or at Viewer."""
    add_run(fake_wandb)
    with pytest.raises(MissingApiKey):
        make_provider(fake_wandb, wandb_home, api_key=None).fetch_run("learner/mnist/abc123")
    with pytest.raises(Unauthorized, match="40 or more"):
        make_provider(fake_wandb, wandb_home, api_key="short").fetch_run("learner/mnist/abc123")
    assert fake_wandb.received == []  # neither reached the server
    with pytest.raises(Unauthorized, match="private"):
        make_provider(fake_wandb, wandb_home, api_key="w" * 40).fetch_run("learner/mnist/abc123")
    assert fake_wandb.operations() == ["Viewer"]


@pytest.mark.parametrize(
    ("mode", "operations", "error"),
    [
        ("run_null", {"Run"}, NotFound),
        ("unauthorized", {"Viewer"}, Unauthorized),
        ("unauthorized", {"Run"}, Unauthorized),
        ("rate_limited", {"Run"}, RateLimited),
        ("server_error", {"Run"}, Unavailable),
        ("slow", {"Run"}, Unavailable),
        ("slow", {"Viewer"}, Unavailable),
        ("malformed", {"Run"}, Unavailable),
    ],
)
def test_fetch_failures_map_to_our_errors(
    fake_wandb: FakeWandb, provider: WandbProvider, mode: str, operations: set, error: type
) -> None:
    """Each way W&B can fail becomes one of our errors, quickly, with a readable message."""
    add_run(fake_wandb)
    fake_wandb.fail(mode, operations=operations, delay=5)
    started = time.monotonic()
    with pytest.raises(error) as caught:
        provider.fetch_run("learner/mnist/abc123")
    assert time.monotonic() - started < 15
    assert caught.value.message and "wandb" not in caught.value.message
    assert caught.value.retryable is (error in (RateLimited, Unavailable))


def test_one_transient_failure_is_retried(fake_wandb: FakeWandb, provider: WandbProvider) -> None:
    """wandb-core retries a single 429 by itself."""
    add_run(fake_wandb)
    fake_wandb.fail("rate_limited", operations={"Run"}, times=1)
    assert provider.fetch_run("learner/mnist/abc123").run_id == "abc123"
    assert fake_wandb.operations() == ["Viewer", "Run", "Run"]


@pytest.mark.parametrize(
    ("mode", "operation", "error"),
    [
        ("server_error", "HistoryPage", Unavailable),
        ("unauthorized", "HistoryPage", Unauthorized),
        ("malformed", "HistoryPage", Unavailable),
        ("run_null", "RunParquetHistory", NotFound),
        ("rate_limited", "RunHistoryKeys", RateLimited),
    ],
)
def test_history_failures_map_to_our_errors(
    fake_wandb: FakeWandb, provider: WandbProvider, mode: str, operation: str, error: type
) -> None:
    """Failures while iterating history (raw WandbApiFailedError) are mapped too."""
    add_run(fake_wandb)
    fake_wandb.fail(mode, operations={operation})
    with pytest.raises(error):
        list(provider.iter_history("learner/mnist/abc123"))


@pytest.mark.parametrize(
    ("mode", "error"), [("unauthorized", Unauthorized), ("server_error", Unavailable)]
)
def test_listing_failures_map_to_our_errors(
    fake_wandb: FakeWandb, provider: WandbProvider, mode: str, error: type
) -> None:
    """Failures while iterating api.runs() (raw WandbApiFailedError) are mapped."""
    fake_wandb.fail(mode, operations={"Runs"})
    with pytest.raises(error):
        provider.list_runs("learner/mnist", tags=["portfolio"])


def test_unknown_project_is_not_found(fake_wandb: FakeWandb, provider: WandbProvider) -> None:
    """A project W&B does not know reads as NotFound."""
    add_run(fake_wandb)
    with pytest.raises(NotFound, match="project"):
        provider.list_runs("learner/nothing-here")


def test_server_down_is_unavailable(wandb_home: Path) -> None:
    """Nothing listening on the base URL is Unavailable, not a crash."""
    fake = FakeWandb(api_key=TEST_KEY)
    url = fake.url
    fake.stop()
    provider = WandbProvider(
        api_key=TEST_KEY, base_url=url, data_dir=wandb_home, timeout=1.0, retries=1
    )
    with pytest.raises(Unavailable):
        provider.fetch_run("learner/mnist/abc123")


def test_registry_and_protocol(wandb_home: Path) -> None:
    """Providers come from the registry by name and satisfy the Protocol."""
    provider = get_provider("wandb", api_key=TEST_KEY, data_dir=wandb_home)
    assert isinstance(provider, WandbProvider) and isinstance(provider, TrackingProvider)
    assert TEST_KEY not in repr(provider)
    assert isinstance(get_provider("wandb-offline"), TrackingProvider)
    with pytest.raises(TrackingError, match="Unknown tracking provider"):
        get_provider("comet")


def test_importing_the_provider_does_not_import_wandb() -> None:
    """wandb is imported lazily, on first use, not at app start."""
    code = (
        "import sys, portfolio.tracking.provider as p; p.get_provider('wandb', api_key='k', "
        "data_dir='.'); import portfolio.tracking.offline, portfolio.tracking.downsample; "
        "print('wandb' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
