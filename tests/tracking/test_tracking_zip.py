"""Uploaded offline-run zips: the good one imports, every hostile one is refused."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from portfolio.tracking.offline import OfflineImportError, OfflineProvider
from portfolio.tracking.offline_zip import ZipLimits, extract_run, open_uploaded_run

from .conftest import OfflineRun


def zip_bytes(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> io.BytesIO:
    """Build a zip in memory from {name: content}."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    buffer.seek(0)
    return buffer


def zip_of_run(offline_run: OfflineRun) -> io.BytesIO:
    """Zip the run folder the way a learner would (with logs and files alongside)."""
    members = {}
    for path in offline_run.run_dir.rglob("*"):
        if path.is_file():
            members[f"{offline_run.run_dir.name}/{path.relative_to(offline_run.run_dir)}"] = (
                path.read_bytes()
            )
    return zip_bytes(members)


def test_uploaded_run_zip_imports(offline_run: OfflineRun) -> None:
    """The run folder zipped imports, and the temporary folder is removed afterwards."""
    with open_uploaded_run(zip_of_run(offline_run)) as run_file:
        assert run_file.name == offline_run.run_file.name
        assert sorted(p.name for p in run_file.parent.iterdir()) == [run_file.name]
        run = OfflineProvider().fetch_run(str(run_file))
        workdir = run_file.parent
    assert run.run_id == offline_run.run_id
    assert not workdir.exists()


def test_temporary_folder_is_removed_on_error() -> None:
    """A refused upload leaves nothing behind."""
    seen: list[Path] = []
    with pytest.raises(OfflineImportError), open_uploaded_run(io.BytesIO(b"junk")) as run_file:
        seen.append(run_file)
    assert seen == []


RUN = b":W&B" + bytes(100)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (io.BytesIO(b"PK\x03\x04 this is not really a zip"), "not a readable .zip"),
        (io.BytesIO(b""), "not a readable .zip"),
        (zip_bytes({"notes.txt": b"hello"}), "holds 0"),
        (zip_bytes({"a/run-1.wandb": RUN, "b/run-2.wandb": RUN}), "holds 2"),
        (zip_bytes({"run-1.wandb": b"<html>not a run</html>"}), "not a W&B run file"),
        (zip_bytes({"../run-1.wandb": RUN}), "unsafe file name"),
        (zip_bytes({"x/../../run-1.wandb": RUN}), "unsafe file name"),
        (zip_bytes({"/etc/run-1.wandb": RUN}), "unsafe file name"),
        (zip_bytes({"C:\\temp\\run-1.wandb": RUN}), "unsafe file name"),
        (zip_bytes({"..\\run-1.wandb": RUN}), "unsafe file name"),
    ],
)
def test_hostile_or_wrong_zips_are_refused(
    upload: io.BytesIO, message: str, tmp_path: Path
) -> None:
    """Corrupt, empty, traversal, absolute and non-W&B uploads fail with a clear message."""
    with pytest.raises(OfflineImportError, match=message):
        extract_run(upload, tmp_path, ZipLimits())
    assert list(tmp_path.iterdir()) == []  # nothing partially written


def test_symlink_member_is_refused(tmp_path: Path) -> None:
    """A symlink in the zip (it could point anywhere) is refused."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("run/run-1.wandb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(OfflineImportError, match="symbolic link"):
        extract_run(buffer, tmp_path, ZipLimits())


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    """A member that inflates absurdly is refused before it is written."""
    bomb = zip_bytes({"run-1.wandb": RUN, "logs/big.log": bytes(20 * 1024 * 1024)})
    assert len(bomb.getvalue()) < 100_000
    with pytest.raises(OfflineImportError, match="zip bomb"):
        extract_run(bomb, tmp_path, ZipLimits())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (ZipLimits(max_zip_bytes=1_000), "larger than"),
        (ZipLimits(max_total_bytes=1_000), "unpacks to more than"),
        (ZipLimits(max_members=3), "more than 3 files"),
    ],
)
def test_size_limits(limits: ZipLimits, message: str, tmp_path: Path) -> None:
    """Too big a zip, too much inside, too many files: refused."""
    noise = {f"f{i}.bin": os.urandom(2_000) for i in range(5)}  # incompressible
    upload = zip_bytes(noise | {"run-1.wandb": RUN})
    with pytest.raises(OfflineImportError, match=message):
        extract_run(upload, tmp_path, limits)


def test_upload_from_a_path(offline_run: OfflineRun, tmp_path: Path) -> None:
    """A zip on disk (the admin CLI) works like an uploaded stream."""
    path = tmp_path / "run.zip"
    path.write_bytes(zip_of_run(offline_run).getvalue())
    out = tmp_path / "out"
    out.mkdir()
    assert extract_run(path, out, ZipLimits()).read_bytes() == offline_run.run_file.read_bytes()
