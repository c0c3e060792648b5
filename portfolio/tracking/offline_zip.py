"""Unpack an uploaded offline-run .zip safely, keeping only its ``run-<id>.wandb`` file.

An upload is untrusted. Before anything is written we check the archive's own size, the
member count, every member name (no absolute paths, drive letters or ``..``), member types
(no symlinks, no encrypted members), the declared total size and each big member's
compression ratio (a zip bomb has an absurd one), and that exactly one member is a
``run-*.wandb`` file. Only that member is extracted, to a fresh temporary folder, while
counting the bytes really written (headers can lie), and CRC errors surface as "corrupt".
Everything else in the zip (logs, media, code) is ignored, never executed.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from .offline import WANDB_MAGIC, OfflineImportError

_RUN_FILE_RE = re.compile(r"run-[A-Za-z0-9_-]{1,128}\.wandb")
_MB = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    """Upper bounds for an uploaded run archive."""

    max_zip_bytes: int = 200 * _MB
    max_total_bytes: int = 1024 * _MB  # declared uncompressed size of all members
    max_members: int = 2_000
    max_ratio: float = 100.0  # uncompressed / compressed, for members above ratio_floor
    ratio_floor: int = _MB


def _size_of(upload: BinaryIO | str | os.PathLike[str]) -> int:
    if isinstance(upload, str | os.PathLike):
        return os.path.getsize(upload)
    position = upload.tell()
    upload.seek(0, os.SEEK_END)
    size = upload.tell()
    upload.seek(position)
    return size


def _check_name(name: str) -> PurePosixPath:
    """Reject absolute paths, drive letters, backslash tricks and ``..`` parts."""
    normalized = name.replace("\\", "/")
    path = PurePosixPath(normalized)
    if (
        not name
        or "\x00" in name
        or normalized.startswith("/")
        or re.match(r"^[A-Za-z]:", normalized)
        or ".." in path.parts
    ):
        raise OfflineImportError(f"The zip holds an unsafe file name ({name[:80]!r}).")
    return path


def _check_member(info: zipfile.ZipInfo, limits: ZipLimits) -> None:
    _check_name(info.filename)
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise OfflineImportError(f"The zip holds a symbolic link ({info.filename[:80]!r}).")
    if info.flag_bits & 0x1:
        raise OfflineImportError("The zip is password-protected; upload it without a password.")
    if info.file_size > limits.ratio_floor:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_ratio:
            raise OfflineImportError(
                "The zip expands to far more than its size (a zip bomb?); it was not opened."
            )


def run_member(archive: zipfile.ZipFile, limits: ZipLimits) -> zipfile.ZipInfo:
    """Validate every member and return the one ``run-*.wandb`` file."""
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise OfflineImportError(f"The zip holds more than {limits.max_members} files.")
    total = 0
    runs = []
    for info in members:
        _check_member(info, limits)
        total += info.file_size
        if not info.is_dir() and _RUN_FILE_RE.fullmatch(PurePosixPath(info.filename).name):
            runs.append(info)
    if total > limits.max_total_bytes:
        raise OfflineImportError(
            f"The zip unpacks to more than {limits.max_total_bytes // _MB} MB; upload only "
            "the offline-run folder."
        )
    if len(runs) != 1:
        raise OfflineImportError(
            "The zip must hold exactly one W&B offline run (one run-<id>.wandb file); "
            f"it holds {len(runs)}."
        )
    return runs[0]


def extract_run(
    upload: BinaryIO | str | os.PathLike[str], dest: str | os.PathLike[str], limits: ZipLimits
) -> Path:
    """Extract the archive's run file into ``dest`` and return its path (nothing on error)."""
    if _size_of(upload) > limits.max_zip_bytes:
        raise OfflineImportError(f"The zip is larger than {limits.max_zip_bytes // _MB} MB.")
    target: Path | None = None
    try:
        with zipfile.ZipFile(upload) as archive:
            info = run_member(archive, limits)
            name = PurePosixPath(info.filename).name
            with archive.open(info) as src:
                chunk = src.read(_MB)
                if not chunk.startswith(WANDB_MAGIC):
                    raise OfflineImportError(f"{name} in the zip is not a W&B run file.")
                target = Path(dest) / name
                _copy(src, chunk, target, min(info.file_size, limits.max_total_bytes))
                return target
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        _remove(target)
        raise OfflineImportError(
            "That file is not a readable .zip archive (it may be damaged)."
        ) from exc
    except BaseException:
        _remove(target)
        raise


def _copy(src: BinaryIO, chunk: bytes, target: Path, limit: int) -> None:
    """Write ``chunk`` and the rest of ``src``, refusing more than ``limit`` bytes."""
    written = 0
    with target.open("xb") as out:
        while chunk:
            written += len(chunk)
            if written > limit:  # the header under-declared the size
                raise OfflineImportError("The zip's sizes do not add up; it was refused.")
            out.write(chunk)
            chunk = src.read(_MB)


def _remove(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)


@contextmanager
def open_uploaded_run(
    upload: BinaryIO | str | os.PathLike[str], limits: ZipLimits | None = None
) -> Iterator[Path]:
    """Extract an uploaded run zip into a temporary folder; yield the run file; clean up."""
    workdir = tempfile.mkdtemp(prefix="seasons-offline-")
    try:
        yield extract_run(upload, workdir, limits or ZipLimits())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
