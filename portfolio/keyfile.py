"""Generated key files (instance/secret_key, instance/credentials_key), safe on first boot.

Several gunicorn workers start at once on a fresh instance folder. Each writes
a complete key to a temporary file beside the target, fsyncs it and hard-links
it into place: ``os.link`` fails if the name exists, so exactly one key wins,
and the name never points at a half-written file. Everyone then reads the
final file back, so every process returns the winner's key.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

# token_urlsafe(48) gives 64 characters; anything much shorter was cut off.
MIN_KEY_LENGTH = 32


class KeyFileError(RuntimeError):
    """A key file exists but cannot be used; the message says what to do."""


def _fsync_dir(folder: Path) -> None:
    """Persist the new directory entry too (best effort: some filesystems refuse)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _create(path: Path) -> None:
    """Write a new key to ``path`` unless another process gets there first."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:  # mkstemp creates it 0600
            fh.write(secrets.token_urlsafe(48))
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # another process won: read theirs
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    _fsync_dir(path.parent)


def load_or_create_key(path: Path, *, setting: str) -> str:
    """Return the key in ``path``, creating it atomically first if there is none.

    ``setting`` names the environment variable that replaces the file, for the
    error raised when the file is empty or too short (left by an older crash).
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _create(path)
    key = path.read_text().strip()
    if len(key) < MIN_KEY_LENGTH:
        raise KeyFileError(
            f"{path} holds no usable key ({len(key)} characters; an earlier start was "
            f"probably interrupted). Set {setting}, or delete the file to have a new key "
            "generated (sessions, or W&B keys saved under the old key, stop working)."
        )
    return key
