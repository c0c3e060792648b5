"""Import runs trained with ``WANDB_MODE=offline``: an uploaded .zip, a folder or a .wandb file.

The run file is read with wandb's own ``wandb leet inspect`` (see offline.py) and mapped
onto the same snapshot shape as a synced run, under the provider "wandb-offline" with the
reference ``entity/project/run_id`` from the file. Nothing of the upload is kept: the
snapshot holds the data, and the unpacked file is deleted when the import ends. Importing
the same run again replaces its snapshot (the learner trained further) unless the new file
is less complete (completeness.py): then it is held for a member to choose. Such links are
never synced on a schedule.
"""

from __future__ import annotations

import logging
import os
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session, select

from ..auth.rules import ValidationError, check_length
from ..errors import Forbidden
from ..models import LinkKind, Project, RunLink, SyncState, User
from ..projects import access
from . import completeness, snapshots
from .downsample import Series, downsample_rows
from .offline import OfflineImportError, find_run_file
from .offline_zip import ZipLimits, open_uploaded_run
from .provider import RunData, TrackingError, get_provider
from .settings import OFFLINE_PROVIDER

logger = logging.getLogger(__name__)

Source = BinaryIO | str | os.PathLike[str]


@dataclass(frozen=True)
class Stored:
    """An imported run's link, and whether its result replaced the snapshot (``verdict``)."""

    link: RunLink
    verdict: completeness.Verdict


@contextmanager
def run_file_of(source: Source, limits: ZipLimits) -> Iterator[Path]:
    """Yield the run file of an upload, a .zip path, a run folder or a .wandb file."""
    if not isinstance(source, str | os.PathLike):
        with open_uploaded_run(source, limits) as run_file:
            yield run_file
        return
    path = Path(source)
    if path.is_file() and (path.suffix.lower() == ".zip" or zipfile.is_zipfile(path)):
        with open_uploaded_run(path, limits) as run_file:
            yield run_file
        return
    yield find_run_file(path)


def import_offline(
    session: Session,
    project: Project,
    actor: User | None,
    source: Source,
    label: str = "",
    hidden: bool = False,
    *,
    now: datetime,
    limits: ZipLimits | None = None,
    timeout: float = 300.0,
) -> Stored:
    """Read an offline run and store it as a snapshot of the project (caller commits).

    ``actor`` None is an operator's command-line import. Errors are ``ValidationError``
    with the reader's learner-readable message, and nothing is written.
    """
    if actor is not None and not access.can_edit(session, project, actor):
        raise Forbidden("Only the project's members may import runs.")
    label = check_length(label or "", field="label", label="Label", max_len=120, required=False)
    run, series = read_offline(source, limits=limits, timeout=timeout)
    return store_offline(
        session, project, run, series, created_by_id=actor.id if actor else None,
        label=label, hidden=hidden, now=now,
    )  # fmt: skip


def read_offline(
    source: Source, *, limits: ZipLimits | None = None, timeout: float = 300.0
) -> tuple[RunData, dict[str, Series]]:
    """Read a run and its downsampled series from an offline source (no database here)."""
    provider = get_provider(OFFLINE_PROVIDER, timeout=timeout)
    try:
        with run_file_of(source, limits or ZipLimits()) as run_file:
            run = provider.fetch_run(str(run_file))
            series = downsample_rows(provider.iter_history(str(run_file)), run.history_keys or None)
    except OfflineImportError as err:
        logger.info("offline import refused: %s (%s)", err.message, err.detail)
        raise ValidationError(err.message, field="archive") from None
    except TrackingError as err:
        raise ValidationError(err.message, field="archive") from None
    if len(run.path) > 300:
        raise ValidationError("That run's W&B project name is too long.", field="archive")
    return run, dict(series)


def store_offline(
    session: Session,
    project: Project,
    run: RunData,
    series: Mapping[str, Series],
    *,
    created_by_id: int | None,
    label: str,
    hidden: bool,
    now: datetime,
) -> Stored:
    """Store a read offline run as its link's snapshot (link made if new), or hold it if worse.

    The caller commits. ``Stored.verdict`` says whether the result replaced the snapshot and
    what the uploader should be told (see completeness.py).
    """
    link = session.exec(
        select(RunLink).where(
            RunLink.project_id == project.id,
            RunLink.provider == OFFLINE_PROVIDER,
            RunLink.ref == run.path,
        )
    ).first()
    if link is None:
        link = RunLink(
            project_id=project.id,
            provider=OFFLINE_PROVIDER,
            kind=LinkKind.run,
            ref=run.path,
            hidden=bool(hidden),
            created_by_id=created_by_id,
            created_at=now,
        )
    if label:
        link.label = label
    link.sync_state = SyncState.synced
    link.last_error = ""
    link.failures = 0
    link.last_synced_at = now
    link.next_sync_at = now
    session.add(link)
    session.flush()
    verdict = completeness.store(session, link, run, series, now)
    if verdict.applied:
        snapshots.bump(session, project, now)
        session.add(project)
    session.flush()
    logger.info("project %s imported offline run %s", project.id, run.path)
    return Stored(link, verdict)
