"""Move figures saved by older versions in instance/uploads into the storage backend."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from ..models import ProjectImage
from ..storage import Storage, StorageNotFound
from .images import storage_key


@dataclass
class UploadMigration:
    """What `flask migrate-uploads` did, per figure."""

    moved: int = 0  # read from the folder, stored, then removed from the folder
    already: int = 0  # no file left, the backend has it (an earlier run moved it)
    missing: int = 0  # a figure row with neither a file nor a stored object
    unknown: int = 0  # files no figure row names, left where they are

    def summary(self) -> str:
        """Say in one sentence what was moved and what was not."""
        return (
            f"Moved {self.moved} figures into storage; {self.already} were already there, "
            f"{self.missing} are missing, {self.unknown} unknown files left in place."
        )


def migrate_uploads(session: Session, storage: Storage, folder: Path) -> UploadMigration:
    """Store every figure file of ``folder`` that a row names, then delete the file.

    Each file is removed only after its object is stored, so a run stopped
    half-way (or an unreachable store) loses nothing and running again is safe.
    """
    result = UploadMigration()
    known: set[str] = set()
    for image in session.exec(select(ProjectImage).order_by(ProjectImage.id)):
        known.add(image.filename)
        path = folder / image.filename
        if path.is_file():
            storage.put(storage_key(image.filename), path.read_bytes(), image.content_type)
            path.unlink()
            result.moved += 1
            continue
        try:
            storage.get(storage_key(image.filename))
        except StorageNotFound:
            result.missing += 1
        else:
            result.already += 1
    if folder.is_dir():
        result.unknown = sum(1 for p in folder.iterdir() if p.name not in known)
    return result
