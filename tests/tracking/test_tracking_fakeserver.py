"""The fake W&B itself: it answers every operation the real client sends, in W&B's shape."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from devtools.wandb.fakeserver import FakeRun, FakeWandb, basic_auth, operation_name
from portfolio.tracking import values

from .conftest import TEST_KEY, make_provider


@pytest.fixture
def api(fake_wandb: FakeWandb, wandb_home: Path) -> object:
    """Return a real wandb.Api on the fake server, with one run holding a NaN."""
    import wandb

    history = [{"_step": i, "loss": 1.0 / (i + 1), "acc": i / 10} for i in range(6)]
    history[2]["loss"] = math.nan
    fake_wandb.add_run(FakeRun("learner", "mnist", "abc123", history=history))
    return wandb.Api(overrides={"base_url": fake_wandb.url}, api_key=TEST_KEY, timeout=10)


def test_every_history_path_of_the_real_client(fake_wandb: FakeWandb, api: object) -> None:
    """history(), keyed history(), scan_history() with and without keys all work.

    NaN comes back as float nan from full rows and as the string 'NaN' from keyed ones;
    values.to_number turns both into float nan.
    """
    assert api.default_entity == "learner"  # GetDefaultEntity (no entity override here)
    run = api.run("learner/mnist/abc123")
    full = run.history(pandas=False)
    keyed = run.history(keys=["loss"], pandas=False)
    scanned = list(run.scan_history(use_cache=False))
    scanned_keyed = list(run.scan_history(keys=["loss"], page_size=2, use_cache=False))
    assert math.isnan(full[2]["loss"]) and math.isnan(scanned[2]["loss"])
    assert keyed[2]["loss"] == "NaN" and scanned_keyed[2]["loss"] == "NaN"
    for rows in (full, keyed, scanned, scanned_keyed):
        assert len(rows) == 6
        assert math.isnan(values.to_number(rows[2]["loss"]))
        assert values.to_number(rows[1]["loss"]) == 0.5
    operations = set(fake_wandb.operations())
    assert operations >= {
        "Viewer",
        "GetDefaultEntity",
        "Run",
        "RunFullHistory",
        "RunSampledHistory",
        "RunHistoryKeys",
        "RunParquetHistory",
        "HistoryPage",
        "SampledHistoryPage",
    }
    pages = [r for r in fake_wandb.received if r.operation == "SampledHistoryPage"]
    assert len(pages) == 3  # six steps, two per page
    assert json.loads(pages[0].variables["spec"])["keys"][:2] == ["_step", "loss"]


def test_unknown_operations_and_paths_are_recorded(fake_wandb: FakeWandb) -> None:
    """Anything unexpected is recorded and answered with a GraphQL error or a 404."""
    body = json.dumps({"query": "query Nope { nope }", "variables": {"a": 1}}).encode()
    headers = {"Authorization": basic_auth(TEST_KEY)}
    request = urllib.request.Request(f"{fake_wandb.url}/graphql", data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.load(response)["errors"][0]["message"] == "unknown operation Nope"
    other = urllib.request.Request(f"{fake_wandb.url}/sdk/otel/v1/metrics", data=b"x")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(other, timeout=5)
    caught.value.close()
    assert [(r.operation, r.path) for r in fake_wandb.received][-1] == ("", "/sdk/otel/v1/metrics")
    assert fake_wandb.received[0].variables == {"a": 1}


def test_operation_name_comes_from_the_query_text() -> None:
    """Python-side queries send an empty operationName."""
    assert operation_name({"operationName": "", "query": "#graphql\n query Run($a: X) {}"}) == "Run"
    assert operation_name({"operationName": "Viewer", "query": "query Other {}"}) == "Viewer"
    assert operation_name({"query": "mutation UpsertBucket { x }"}) == "UpsertBucket"
    assert operation_name({}) == ""


def test_failures_can_be_limited_and_cleared(fake_wandb: FakeWandb) -> None:
    """A failure may apply to some operations, a number of times, and be cleared."""
    with pytest.raises(ValueError, match="unknown failure mode"):
        fake_wandb.fail("explode")
    fake_wandb.fail("server_error", operations={"Run"}, times=1)
    assert fake_wandb._take_failure("Viewer") is None
    assert fake_wandb._take_failure("Run") is not None
    assert fake_wandb._take_failure("Run") is None
    fake_wandb.fail("slow")
    fake_wandb.clear()
    assert fake_wandb._take_failure("Run") is None and fake_wandb.received == []


def test_latency_delays_every_graphql_answer() -> None:
    """latency=0.3: a GraphQL answer takes at least 0.3 s (bench_scale_sync.py relies on it)."""
    import time

    with FakeWandb(latency=0.3) as fake:
        request = urllib.request.Request(
            f"{fake.url}/graphql",
            data=json.dumps({"query": "query Viewer { viewer { id } }"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        started = time.monotonic()
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        assert time.monotonic() - started >= 0.3
        assert fake.operations() == ["Viewer"]


ONLINE_SCRIPT = """
import math, wandb

run = wandb.init(
    entity="learner", project="online", id="live01", name="<b>live</b>",
    config={"lr": 0.01, "optimizer": {"name": "adam"}}, tags=["portfolio"],
    settings=wandb.Settings(console="off", x_disable_stats=True, x_disable_meta=True),
)
for step in range(20):
    run.log({"loss": math.nan if step == 3 else 1.0 / (step + 1), "acc": step / 20})
run.summary["best_acc"] = 0.95
run.finish()
"""


def test_an_online_run_logged_by_real_wandb_reads_back_through_the_public_api(
    fake_wandb: FakeWandb, wandb_home: Path, tmp_path: Path
) -> None:
    """wandb.init() online writes to the fake (UpsertBucket, file_stream); the provider reads it.

    A failed script would exit non-zero: the fake must accept every write the client sends.
    """
    script = tmp_path / "train.py"
    script.write_text(ONLINE_SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update(
        WANDB_BASE_URL=fake_wandb.url, WANDB_API_KEY=TEST_KEY, WANDB_SILENT="true",
        WANDB_ERROR_REPORTING="false", WANDB_DIR=str(tmp_path),
        WANDB_CACHE_DIR=str(tmp_path / "c"), WANDB_CONFIG_DIR=str(tmp_path / "cf"),
    )  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    writes = [r for r in fake_wandb.received if r.operation in ("UpsertBucket", "file_stream")]
    assert writes and all(r.authorization == basic_auth(TEST_KEY) for r in writes)
    assert "config.yaml" in {name.split("/", 1)[1] for name in fake_wandb.uploaded}

    provider = make_provider(fake_wandb, wandb_home)
    run = provider.fetch_run("learner/online/live01")
    assert run.state == "finished" and run.name == "<b>live</b>" and run.tags == ("portfolio",)
    assert run.config["lr"] == 0.01 and run.config["optimizer.name"] == "adam"
    assert run.summary["best_acc"] == 0.95 and run.summary["acc"] == pytest.approx(0.95)
    rows = list(provider.iter_history("learner/online/live01"))
    assert [step for step, _ in rows] == list(range(20))
    assert math.isnan(rows[3][1]["loss"]) and rows[4][1]["loss"] == pytest.approx(0.2)


def test_file_stream_for_an_unknown_run_or_without_the_key_is_refused(
    fake_wandb: FakeWandb,
) -> None:
    """The write side checks the key and the run like the read side."""
    body = json.dumps({"files": {}, "complete": True, "exitcode": 0}).encode()
    url = f"{fake_wandb.url}/files/learner/online/nope/file_stream"
    for headers, code in (({}, 401), ({"Authorization": basic_auth(TEST_KEY)}, 404)):
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)
        caught.value.close()  # the error holds the open response
        assert caught.value.code == code
