"""Offline runs written by wandb itself: read with leet, and served through the fake W&B."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from devtools.wandb.fakeserver import FakeWandb
from devtools.wandb.fakeserver_runs import fake_run_from_offline
from portfolio.tracking.downsample import SeriesAccumulator
from portfolio.tracking.offline import OfflineImportError, OfflineProvider, find_run_file
from portfolio.tracking.provider import RunData

from .conftest import OfflineRun, make_provider
from .test_tracking_wandb import same


def expected_rows(logged: dict) -> list[tuple[int, dict[str, float]]]:
    """Return the history rows as logged, one step per log call."""
    return [
        (step, {k: float(v) for k, v in row.items()}) for step, row in enumerate(logged["history"])
    ]


def series(rows) -> dict[str, tuple[list, list]]:
    """The metric series a sync would store from these history rows (steps, values)."""
    arrays = SeriesAccumulator().extend(rows).arrays()
    return {key: (x.tolist(), y.tolist()) for key, (x, y) in arrays.items()}


def expected_summary(logged: dict) -> dict[str, object]:
    """Return the summary wandb keeps: each metric's last value plus what was set."""
    summary: dict[str, object] = {}
    for row in logged["history"]:
        summary.update({k: float(v) for k, v in row.items()})
    summary.update({"best.acc": 0.75, "best.epoch": 3.0, "note": "<b>done</b>"})
    return summary


def check_against_logged(run: RunData, offline: OfflineRun) -> None:
    """Assert a RunData holds exactly what the script logged."""
    logged = offline.logged
    assert run.run_id == offline.run_id
    assert run.path == f"{logged['entity']}/{logged['project']}/{offline.run_id}"
    assert run.name == logged["name"]  # HTML stays plain text; templates escape it
    assert run.state == "finished" and run.tags == tuple(logged["tags"])
    assert run.created_at is not None and run.created_at.tzinfo is not None
    assert run.config == {
        "lr": 0.001,
        "epochs": 4,
        "use_amp": True,
        "optimizer.name": "adam",
        "optimizer.betas": "[0.9, 0.999]",
        "<b>html</b>": "<img src=x onerror=alert(1)>",
    }
    assert same(run.summary, expected_summary(logged))
    assert run.history_keys == ("acc", "loss", "val/loss")
    assert run.history_rows == len(logged["history"])


def test_offline_run_reads_back_as_logged(offline_run: OfflineRun) -> None:
    """leet's view of the .wandb file equals what was logged, NaN and ±inf included."""
    provider = OfflineProvider()
    for ref in (offline_run.run_dir, offline_run.run_file, offline_run.run_dir.parent.parent):
        assert find_run_file(ref) == offline_run.run_file  # a file, a run folder, a wandb dir
    run = provider.fetch_run(str(offline_run.run_dir))
    check_against_logged(run, offline_run)
    assert run.provider == "wandb-offline" and run.url is None
    rows = list(provider.iter_history(str(offline_run.run_file)))
    assert same(rows, expected_rows(offline_run.logged))
    only_loss = list(provider.iter_history(str(offline_run.run_file), ["loss"]))
    assert same(only_loss, [(s, {"loss": r["loss"]}) for s, r in expected_rows(offline_run.logged)])


def test_served_offline_run_equals_offline_import(
    offline_run: OfflineRun, fake_wandb: FakeWandb, wandb_home: Path
) -> None:
    """The same run served over GraphQL and fetched with wandb.Api gives the same data."""
    fake_wandb.add_run(fake_run_from_offline(offline_run.run_dir))
    provider = make_provider(fake_wandb, wandb_home)
    ref = f"{offline_run.logged['entity']}/{offline_run.logged['project']}/{offline_run.run_id}"
    online = provider.fetch_run(ref)
    check_against_logged(online, offline_run)
    offline = OfflineProvider().fetch_run(str(offline_run.run_file))
    assert offline.ended is True and online.ended is None  # only the file shows its exit record
    assert same(
        dataclasses.replace(online, provider="-", url=None),
        dataclasses.replace(offline, provider="-", ended=None),
    )
    # W&B's pages arrive raw (with _runtime, _timestamp); as metric series they match.
    assert same(series(provider.iter_history(ref)), series(expected_rows(offline_run.logged)))


def test_not_a_run_file_is_refused(tmp_path: Path) -> None:
    """Garbage, an empty file, a missing path and two runs are clear errors."""
    junk = tmp_path / "run-abc.wandb"
    junk.write_bytes(b"hello, not a run")
    with pytest.raises(OfflineImportError, match="not a W&B run file"):
        OfflineProvider().fetch_run(str(junk))
    with pytest.raises(OfflineImportError, match="no file or folder"):
        find_run_file(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(OfflineImportError, match="found 0"):
        find_run_file(tmp_path / "empty")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "run-def.wandb").write_bytes(b":W&B")
    with pytest.raises(OfflineImportError, match="found 2"):
        find_run_file(tmp_path)


def test_header_only_file_is_not_a_run(tmp_path: Path) -> None:
    """leet reads any W&B-headed file; one with no run record is still refused."""
    fake = tmp_path / "run-abc.wandb"
    fake.write_bytes(b":W&B" + bytes(20))
    with pytest.raises(OfflineImportError):
        OfflineProvider().fetch_run(str(fake))


def test_truncated_run_is_read_as_far_as_it_goes(offline_run: OfflineRun, tmp_path: Path) -> None:
    """An interrupted upload keeps what was written (leet warns, we keep the rows)."""
    data = offline_run.run_file.read_bytes()
    cut = tmp_path / offline_run.run_file.name
    cut.write_bytes(data[: len(data) * 2 // 3])
    provider = OfflineProvider()
    run = provider.fetch_run(str(cut))
    assert run.run_id == offline_run.run_id and run.config["lr"] == 0.001
    assert run.ended is False  # no exit record: the reader saw the file end early
    rows = list(provider.iter_history(str(cut)))
    assert 0 < len(rows) < len(offline_run.logged["history"])
    assert same(rows, expected_rows(offline_run.logged)[: len(rows)])
