"""Offline runs written by wandb itself, imported into snapshots (service and CLI)."""

from __future__ import annotations

import io
import math
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import func, select

from portfolio.auth.rules import ValidationError
from portfolio.models import MetricSeries, RunLink, RunSnapshot, SyncState
from portfolio.tracking import imports, sync
from portfolio.tracking.offline_zip import ZipLimits
from portfolio.tracking.snapshots import storable_mapping

from .conftest import OfflineRun
from .test_tracking_offline import expected_rows, expected_summary
from .test_tracking_zip import zip_bytes, zip_of_run

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


def check_snapshot_equals_logged(session, link: RunLink, offline: OfflineRun) -> None:
    """The stored snapshot holds exactly what the training script logged."""
    logged = offline.logged
    snap = session.get(RunSnapshot, link.current_snapshot_id)
    assert snap.run_id == offline.run_id and snap.name == logged["name"]
    assert snap.state == "finished" and snap.tags == logged["tags"] and snap.url == ""
    assert snap.summary == storable_mapping(expected_summary(logged))
    assert snap.config == {
        "lr": 0.001,
        "epochs": 4,
        "use_amp": True,
        "optimizer.name": "adam",
        "optimizer.betas": "[0.9, 0.999]",
        "<b>html</b>": "<img src=x onerror=alert(1)>",
    }
    series = {
        s.key: s.points
        for s in session.exec(select(MetricSeries).where(MetricSeries.snapshot_id == snap.id))
    }
    expected: dict[str, list] = {}
    for step, row in expected_rows(logged):
        for key, value in row.items():
            expected.setdefault(key, []).append([step, value if math.isfinite(value) else None])
    assert series == expected


@pytest.mark.parametrize("form", ["folder", "file", "zip"])
def test_import_equals_what_was_logged(
    ctx, session, project, learner, offline_run: OfflineRun, form: str
) -> None:
    """A run folder, its .wandb file and a zip of the folder all import the logged values."""
    source: object = {
        "folder": offline_run.run_dir,
        "file": offline_run.run_file,
        "zip": zip_of_run(offline_run),
    }[form]
    created = imports.import_offline(session, project, learner, source, "Offline", now=NOW).link
    session.commit()
    assert created.provider == "wandb-offline" and created.label == "Offline"
    assert created.ref == f"learner/seasons-offline/{offline_run.run_id}"
    assert created.sync_state == SyncState.synced and created.last_synced_at == NOW
    check_snapshot_equals_logged(session, created, offline_run)
    assert sync.claim_due(session, now=datetime(2030, 1, 1, tzinfo=UTC), limit=5) == []


def test_importing_again_replaces_the_snapshot(
    ctx, session, project, learner, offline_run: OfflineRun
) -> None:
    """The same run uploaded twice is one link with one (new) snapshot."""
    first = imports.import_offline(session, project, learner, offline_run.run_dir, now=NOW).link
    session.commit()
    old = first.current_snapshot_id
    again = imports.import_offline(session, project, learner, zip_of_run(offline_run), now=NOW)
    assert again.verdict.applied and not again.verdict.warning
    again = again.link
    session.commit()
    assert again.id == first.id and again.current_snapshot_id != old
    assert session.exec(select(func.count()).select_from(RunSnapshot)).one() == 1


RUN = b":W&B" + bytes(100)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (io.BytesIO(b"PK\x03\x04 this is not really a zip"), "not a readable .zip"),
        (zip_bytes({"notes.txt": b"hello"}), "holds 0"),
        (zip_bytes({"run-1.wandb": b"<html>not a run</html>"}), "not a W&B run file"),
        (zip_bytes({"../run-1.wandb": RUN}), "unsafe file name"),
        (zip_bytes({"run-1.wandb": RUN, "big.log": bytes(20 * 1024 * 1024)}), "zip bomb"),
        (zip_bytes({"run-1.wandb": RUN}), "no run id|damaged"),
    ],
)
def test_bad_uploads_save_nothing(
    ctx, session, project, learner, upload: io.BytesIO, message: str
) -> None:
    """Corrupt, traversal, bomb, non-W&B and empty runs: a clear error, no rows."""
    with pytest.raises(ValidationError, match=message) as caught:
        imports.import_offline(session, project, learner, upload, now=NOW)
    assert caught.value.field == "archive"
    session.rollback()
    assert session.exec(select(func.count()).select_from(RunLink)).one() == 0


def test_too_big_upload_is_refused(ctx, session, project, learner, offline_run) -> None:
    """The upload limit applies before anything is unpacked."""
    with pytest.raises(ValidationError, match="larger than"):
        imports.import_offline(
            session, project, learner, zip_of_run(offline_run), now=NOW,
            limits=ZipLimits(max_zip_bytes=100),
        )  # fmt: skip


def test_cli_import(runner, session, project, learner, offline_run: OfflineRun, tmp_path) -> None:
    """`flask import-wandb-offline PATH --project handle/slug` takes a folder or a zip."""
    archive = tmp_path / "run.zip"
    archive.write_bytes(zip_of_run(offline_run).getvalue())
    result = runner.invoke(
        args=["import-wandb-offline", str(archive), "--project", f"lena/{project.slug}",
              "--label", "From the lab", "--hidden"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Imported learner/seasons-offline/{offline_run.run_id}" in result.output
    created = session.exec(select(RunLink)).one()
    assert created.hidden and created.label == "From the lab" and created.created_by_id is None
    check_snapshot_equals_logged(session, created, offline_run)
    result = runner.invoke(args=["import-wandb-offline", str(tmp_path), "--project", "lena/nope"])
    assert result.exit_code != 0 and "no project" in result.output
    notes = tmp_path / "notes.zip"
    with zipfile.ZipFile(notes, "w") as out:
        out.writestr("notes.txt", "hi")
    result = runner.invoke(
        args=["import-wandb-offline", str(notes), "--project", f"lena/{project.slug}"]
    )
    assert result.exit_code != 0 and "exactly one W&B offline run" in result.output
    assert Path(archive).exists()  # the source is never deleted
