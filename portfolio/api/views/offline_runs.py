"""Upload an offline W&B run (a zip) for the scheduler to import, and poll the import.

The checks, storage and queueing are ``tracking.import_queue``'s, the same as the
runs page's upload form; the body is the zip itself (``application/zip``), so a
client streams a file without multipart encoding.
"""

from __future__ import annotations

from flask import request, url_for

from ...auth.tokens import Scope
from ...db import get_session
from ...errors import NotFound
from ...models import ImportState, OfflineImport, utcnow
from ...tracking import import_queue
from ...tracking.offline_zip import ZipLimits
from ...tracking.settings import TrackingSettings
from .. import auth, schemas_runs
from ..loading import project_for
from ..present import absolute
from ..routing import operation

BASE = "/projects/<int:project_id>/offline-runs"
LIST_LIMIT = 50


def _out(job: OfflineImport) -> schemas_runs.OfflineImportOut:
    path = url_for("api.get_offline_run", project_id=job.project_id, import_id=job.id)
    return schemas_runs.OfflineImportOut(
        id=job.id,  # type: ignore[arg-type]
        project_id=job.project_id,
        state=ImportState(job.state).value,  # type: ignore[arg-type]
        filename=job.filename,
        size=job.size,
        label=job.label,
        ref=job.ref,
        link_id=job.link_id,
        error=job.error,
        warning=job.warning,
        created_at=job.created_at,
        finished_at=job.finished_at,
        status_url=absolute(path),
    )


@operation(
    "POST",
    BASE,
    summary="Upload an offline run",
    tag="runs",
    scope=Scope.write,
    response=schemas_runs.OfflineImportOut,
    status=202,
    query=schemas_runs.OfflineUploadQuery,
    raw_body="application/zip",
)
def upload_offline_run(
    project_id: int, query: schemas_runs.OfflineUploadQuery
) -> schemas_runs.OfflineImportOut:
    """Queue a zipped offline-run folder (one run-<id>.wandb) for import; poll `status_url`.

    The same checks and size limit (WANDB_UPLOAD_MAX_BYTES) as the runs page's upload.
    """
    settings = TrackingSettings.current()
    request.max_content_length = settings.upload_max_bytes
    user = auth.caller()
    project, _ = project_for(user, project_id, edit=True)
    session = get_session()
    job = import_queue.enqueue(
        session, project, user, request.get_data(cache=False),
        filename=query.filename, label=query.label,
        hidden=query.hidden, limits=ZipLimits(max_zip_bytes=settings.upload_max_bytes),
        now=utcnow(),
    )  # fmt: skip
    import_queue.commit_upload(session, job)
    return _out(job)


@operation(
    "GET",
    BASE + "/<int:import_id>",
    summary="Read an offline-run import",
    tag="runs",
    scope=Scope.read,
    response=schemas_runs.OfflineImportOut,
)
def get_offline_run(project_id: int, import_id: int) -> schemas_runs.OfflineImportOut:
    """One upload's import state: queued, importing, done (with the run), failed or held (why)."""
    project, _ = project_for(auth.caller(), project_id)
    job = get_session().get(OfflineImport, import_id)
    if job is None or job.project_id != project.id:
        raise NotFound("There is no such upload on this project.")
    return _out(job)


@operation(
    "GET",
    BASE,
    summary="List offline-run imports",
    tag="runs",
    scope=Scope.read,
    response=schemas_runs.OfflineImportPage,
)
def list_offline_runs(project_id: int) -> schemas_runs.OfflineImportPage:
    """The project's latest uploads (at most 50), newest first: still queued, done or not."""
    project, _ = project_for(auth.caller(), project_id)
    jobs = import_queue.recent(get_session(), project, limit=LIST_LIMIT)
    return schemas_runs.OfflineImportPage(items=[_out(job) for job in jobs])
