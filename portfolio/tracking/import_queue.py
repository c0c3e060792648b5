"""Offline-run uploads imported by the scheduler, not inside the web request.

The request only checks what is cheap (the size, that it is a zip whose directory
holds one run file and nothing unsafe), stores the bytes in the storage backend
(``portfolio/storage``) and records an ``OfflineImport`` row, "queued". The
``import_offline_runs`` job on every scheduler process then works in the four phases
of ``sync.py``, committing between them:

1. ``claim_due`` marks queued imports (and "importing" ones whose lease ran out: their
   worker died) "importing" with a lease (``IMPORT_LEASE_SECONDS``), picking rows with
   ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so two processes never take the same one;
2. ``prepare`` reads what the import needs into a plain ``ImportPlan``;
3. ``fetch`` loads the bytes from storage and reads the run with wandb (slow; no
   database transaction is open);
4. ``apply`` re-checks that the claim is still ours, stores the snapshot (the same
   ``imports.store_offline`` as the CLI) or the learner-readable error, and marks the
   row done, failed, or "held" when the run was read but is less complete than the
   snapshot it would replace (completeness.py; ``warning`` says why). The job deletes
   the stored bytes once the outcome is committed.

An import whose worker died ``MAX_ATTEMPTS`` times fails rather than looping. When the
store cannot be reached the import is queued again (``RETRY_AFTER``), not failed.
"""

from __future__ import annotations

import io
import logging
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from ..auth.rules import ValidationError, check_length
from ..errors import DomainError, Forbidden
from ..models import ImportState, OfflineImport, Project, User
from ..projects import access
from ..storage import StorageError, StorageUnavailable, get_storage
from . import imports
from .downsample import Series
from .offline import OfflineImportError
from .offline_zip import ZipLimits, run_member
from .provider import RunData

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=1)  # the store was unreachable: try again, uncounted
CONTENT_TYPE = "application/zip"
CRASH_MESSAGE = "Something went wrong on our side while importing this run; please upload it again."
GAVE_UP = "The import stopped several times without finishing; please upload the run again."


def enqueue(
    session: Session,
    project: Project,
    actor: User,
    data: bytes,
    *,
    filename: str = "",
    label: str = "",
    hidden: bool = False,
    limits: ZipLimits,
    now: datetime,
) -> OfflineImport:
    """Check an upload cheaply, store its bytes and queue its import (caller commits).

    Raises ``ValidationError`` for a file that is too big or not a usable zip and
    ``StorageUnavailable`` when the store cannot take it; nothing is written then.
    """
    if not access.can_edit(session, project, actor):
        raise Forbidden("Only the project's members may import runs.")
    label = check_length(label or "", field="label", label="Label", max_len=120, required=False)
    check_archive(data, limits)
    key = f"offline-imports/{uuid.uuid4().hex}.zip"
    get_storage().put(key, data, CONTENT_TYPE)
    job = OfflineImport(
        project_id=project.id,  # type: ignore[arg-type]
        user_id=actor.id,
        storage_key=key,
        # Shown back to the learner only; the browser's name may hold anything.
        filename="".join(c for c in filename or "" if c.isprintable())[:200],
        size=len(data),
        label=label,
        hidden=bool(hidden),
        created_at=now,
    )
    session.add(job)
    try:
        session.flush()
    except Exception:
        session.rollback()  # SQLite: free the write lock the delete below needs
        discard_upload(key)  # no row points at it
        raise
    return job


def check_archive(data: bytes, limits: ZipLimits) -> None:
    """Refuse what the zip's directory already shows is wrong (reads no member's data)."""
    mb = 1024 * 1024
    if len(data) > limits.max_zip_bytes:
        raise ValidationError(
            f"The zip is larger than {limits.max_zip_bytes // mb} MB.", field="archive"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            run_member(archive, limits)
    except OfflineImportError as err:
        raise ValidationError(err.message, field="archive") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError):
        raise ValidationError(
            "That file is not a readable .zip archive (it may be damaged).", field="archive"
        ) from None


def claim_due(
    session: Session, *, now: datetime, limit: int = 1, lease: timedelta = LEASE
) -> list[tuple[int, datetime]]:
    """Claim queued imports (or ones whose worker died); the caller commits at once.

    Returns (id, lease_until) pairs: the lease time is the claim's token for ``apply``.
    """
    due = (
        select(OfflineImport.id)
        .where(
            or_(
                and_(
                    OfflineImport.state == ImportState.queued.value,
                    or_(
                        col(OfflineImport.lease_until).is_(None),
                        col(OfflineImport.lease_until) <= now,
                    ),
                ),
                and_(
                    OfflineImport.state == ImportState.importing.value,
                    col(OfflineImport.lease_until) <= now,
                ),
            )
        )
        .order_by(OfflineImport.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    until = now + lease
    claimed = session.execute(
        update(OfflineImport)
        .where(col(OfflineImport.id).in_(due.scalar_subquery()))
        .values(
            state=ImportState.importing.value,
            lease_until=until,
            attempts=OfflineImport.attempts + 1,
        )
        .returning(OfflineImport.id)
        .execution_options(synchronize_session=False)
    )
    return [(i, until) for i in sorted(claimed.scalars())]


@dataclass(frozen=True)
class ImportPlan:
    """What the slow phase needs, read beforehand."""

    import_id: int
    storage_key: str
    lease_until: datetime
    attempts: int


@dataclass(frozen=True)
class ImportResult:
    """The run read from the upload, or the learner-readable reason it could not be."""

    run: RunData | None = None
    series: dict[str, Series] = field(default_factory=dict)
    error: str = ""
    retry: bool = False  # the store did not answer: queue it again


def prepare(session: Session, import_id: int, lease_until: datetime) -> ImportPlan | None:
    """Read a claimed import; None when it is gone."""
    job = session.get(OfflineImport, import_id, populate_existing=True)
    if job is None:
        return None
    return ImportPlan(job.id, job.storage_key, lease_until, job.attempts)  # type: ignore[arg-type]


def fetch(plan: ImportPlan, *, limits: ZipLimits, timeout: float) -> ImportResult:
    """Load the stored bytes and read the run (no database transaction here)."""
    if plan.attempts > MAX_ATTEMPTS:
        return ImportResult(error=GAVE_UP)
    try:
        stored = get_storage().get(plan.storage_key)
        run, series = imports.read_offline(io.BytesIO(stored.data), limits=limits, timeout=timeout)
    except StorageUnavailable as err:
        logger.warning("offline import %s: store unreachable: %s", plan.import_id, err.detail)
        return ImportResult(error=err.message, retry=True)
    except DomainError as err:  # a bad run, or its bytes are gone (StorageNotFound)
        return ImportResult(error=err.message)
    return ImportResult(run=run, series=series)


def apply(session: Session, plan: ImportPlan, result: ImportResult, *, now: datetime) -> str:
    """Store the snapshot or the error if the claim is still ours; return the outcome."""
    job = session.exec(
        select(OfflineImport)
        .where(OfflineImport.id == plan.import_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if job is None or job.state != ImportState.importing or job.lease_until != plan.lease_until:
        return "lost"  # deleted, or our lease ran out and another worker took it
    if result.retry:
        job.state, job.lease_until = ImportState.queued, now + RETRY_AFTER
        job.attempts -= 1  # not the import's fault
        session.add(job)
        session.flush()
        return "retry"
    project = session.get(Project, job.project_id)
    if result.run is not None and project is not None:
        stored = imports.store_offline(
            session, project, result.run, result.series, created_by_id=job.user_id,
            label=job.label, hidden=job.hidden, now=now,
        )  # fmt: skip
        verdict = stored.verdict
        job.ref, job.link_id, job.error = stored.link.ref, stored.link.id, ""
        job.state = ImportState.done if verdict.applied else ImportState.held
        job.warning = (verdict.reason or verdict.warning)[:1000]
    else:
        job.state = ImportState.failed
        job.error = (result.error or CRASH_MESSAGE)[:1000]
    job.finished_at = now
    job.lease_until = None
    session.add(job)
    session.flush()
    return job.state.value


def record_crash(session: Session, plan: ImportPlan, *, now: datetime) -> None:
    """Fail an import whose processing raised (already logged)."""
    apply(session, plan, ImportResult(error=CRASH_MESSAGE), now=now)


def commit_upload(session: Session, job: OfflineImport) -> None:
    """Commit a queued upload; if that fails, delete its stored bytes (no row points at them)."""
    try:
        session.commit()
    except Exception:
        discard_upload(job.storage_key)
        raise


def discard_upload(storage_key: str) -> None:
    """Delete an import's stored bytes once its outcome is committed; a failure only logs."""
    try:
        get_storage().delete(storage_key)
    except StorageError:
        logger.warning("could not delete the stored upload %s; it stays", storage_key)


def recent(session: Session, project: Project, *, limit: int = 5) -> list[OfflineImport]:
    """The project's latest imports, newest first, for the runs page."""
    return list(
        session.exec(
            select(OfflineImport)
            .where(OfflineImport.project_id == project.id)
            .order_by(col(OfflineImport.id).desc())
            .limit(limit)
        )
    )
