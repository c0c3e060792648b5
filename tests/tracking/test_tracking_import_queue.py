"""Queued offline imports: the request stores and queues, the scheduler job imports."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from portfolio.auth.rules import ValidationError
from portfolio.models import (
    ImportState,
    OfflineImport,
    Project,
    RunLink,
    RunSnapshot,
    StoredBlob,
)
from portfolio.storage import StorageNotFound, StorageUnavailable, get_storage
from portfolio.tracking import import_queue
from portfolio.tracking.offline_zip import ZipLimits
from scheduler import jobs

from .conftest import OfflineRun
from .test_tracking_import import NOW, RUN
from .test_tracking_zip import zip_bytes, zip_of_run

LIMITS = ZipLimits()


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def queue(session, project, learner, data: bytes, **kw) -> OfflineImport:
    job = import_queue.enqueue(session, project, learner, data, limits=LIMITS, now=NOW, **kw)
    session.commit()
    return job


def test_queued_import_runs_in_the_job_and_deletes_the_upload(
    ctx, wandb_app, session, project, learner, offline_run: OfflineRun
) -> None:
    """Queued: bytes stored, no run yet. The job imports it, records done, drops the bytes."""
    job = queue(session, project, learner, zip_of_run(offline_run).getvalue(), label="Lab")
    assert job.state == ImportState.queued and get_storage().get(job.storage_key).data
    assert count(session, RunLink) == 0

    assert jobs.import_offline_runs(wandb_app, now=NOW) == {"done": 1}
    session.refresh(job)
    link = session.exec(select(RunLink)).one()
    assert job.state == ImportState.done and job.error == "" and job.finished_at == NOW
    assert (
        job.link_id == link.id
        and job.ref == link.ref == f"learner/seasons-offline/{offline_run.run_id}"
    )
    assert link.label == "Lab" and link.created_by_id == learner.id
    assert count(session, RunSnapshot) == 1
    with pytest.raises(StorageNotFound):
        get_storage().get(job.storage_key)
    assert jobs.import_offline_runs(wandb_app, now=NOW) == {}  # nothing left


def test_a_bad_run_inside_a_good_zip_fails_with_the_reason_and_changes_nothing(
    ctx, wandb_app, session, project, learner
) -> None:
    """The zip looks fine to the request; the job finds the run file is not W&B's and says so."""
    version = project.version
    job = queue(
        session, project, learner, zip_bytes({"run-1.wandb": b"<html>nope</html>"}).getvalue()
    )
    assert jobs.import_offline_runs(wandb_app, now=NOW) == {"failed": 1}
    session.refresh(job)
    assert job.state == ImportState.failed and "not a W&B run file" in job.error
    assert count(session, RunLink) == 0 and count(session, RunSnapshot) == 0
    assert session.get(Project, project.id, populate_existing=True).version == version
    assert count(session, StoredBlob) == 0  # nothing can retry it: the bytes are gone too


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04 this is not really a zip", "not a readable .zip"),
        (zip_bytes({"notes.txt": b"hello"}).getvalue(), "holds 0"),
        (zip_bytes({"../run-1.wandb": RUN}).getvalue(), "unsafe file name"),
        (zip_bytes({"run-1.wandb": RUN, "big.log": bytes(20 << 20)}).getvalue(), "zip bomb"),
    ],
)
def test_what_the_zip_directory_shows_is_refused_in_the_request(
    ctx, session, project, learner, data: bytes, message: str
) -> None:
    """Not a zip, no run file, unsafe names, a bomb: refused at once, nothing stored or queued."""
    with pytest.raises(ValidationError, match=message):
        import_queue.enqueue(session, project, learner, data, limits=LIMITS, now=NOW)
    session.rollback()
    assert count(session, OfflineImport) == 0 and count(session, StoredBlob) == 0


def test_too_big_is_refused_before_storing(ctx, session, project, learner) -> None:
    """The size limit is checked first."""
    with pytest.raises(ValidationError, match="larger than"):
        import_queue.enqueue(
            session, project, learner, bytes(200), limits=ZipLimits(max_zip_bytes=100), now=NOW
        )
    assert count(session, StoredBlob) == 0


def test_unreachable_store_refuses_the_upload(
    dead_s3_app, session, project, learner, offline_run: OfflineRun
) -> None:
    """The store does not answer: a clear StorageUnavailable, no import row."""
    with dead_s3_app.app_context(), pytest.raises(StorageUnavailable):
        import_queue.enqueue(
            session, project, learner, zip_of_run(offline_run).getvalue(), limits=LIMITS, now=NOW
        )
    session.rollback()
    assert count(session, OfflineImport) == 0


def test_a_killed_workers_import_comes_back_after_the_lease(
    ctx, wandb_app, session, project, learner, offline_run: OfflineRun
) -> None:
    """Claimed by a worker that died: untouchable during the lease, imported once after it."""
    job = queue(session, project, learner, zip_of_run(offline_run).getvalue())
    lease = timedelta(seconds=wandb_app.config["IMPORT_LEASE_SECONDS"])
    [(claimed_id, dead_token)] = import_queue.claim_due(session, now=NOW, lease=lease)
    session.commit()  # ... and the worker is killed here
    assert claimed_id == job.id
    assert jobs.import_offline_runs(wandb_app, now=NOW + lease - timedelta(seconds=1)) == {}
    assert jobs.import_offline_runs(wandb_app, now=NOW + lease) == {"done": 1}
    session.refresh(job)
    assert job.state == ImportState.done and job.attempts == 2
    # The dead worker's late result (were it to wake up) is not applied over the new one.
    plan = import_queue.ImportPlan(job.id, job.storage_key, dead_token, 1)
    late = import_queue.apply(session, plan, import_queue.ImportResult(error="late"), now=NOW)
    assert late == "lost"
    session.rollback()
    assert count(session, RunSnapshot) == 1


def test_an_import_that_keeps_killing_its_worker_fails_in_the_end(
    ctx, wandb_app, session, project, learner
) -> None:
    """After MAX_ATTEMPTS claims that never finished, the import fails with a reason."""
    job = queue(session, project, learner, zip_bytes({"run-1.wandb": RUN}).getvalue())
    at = NOW
    for _ in range(import_queue.MAX_ATTEMPTS):
        assert import_queue.claim_due(session, now=at, lease=timedelta(seconds=1))
        session.commit()
        at += timedelta(seconds=2)
    assert jobs.import_offline_runs(wandb_app, now=at) == {"failed": 1}
    session.refresh(job)
    assert job.state == ImportState.failed and "stopped several times" in job.error


def test_only_members_may_queue(ctx, session, project, make_user, offline_run) -> None:
    """A stranger cannot queue an import into someone's project."""
    from portfolio.errors import Forbidden

    with pytest.raises(Forbidden):
        queue(session, project, make_user("mallory"), zip_of_run(offline_run).getvalue())
    assert count(session, StoredBlob) == 0


def test_store_outage_during_the_import_queues_it_again(
    s3_app, wandb_app, session, project, learner, offline_run: OfflineRun
) -> None:
    """Queued into S3; S3 goes away: the job retries later (not failed); S3 back: imported."""
    from tests.fixtures_storage import free_port, s3_settings

    good = dict(s3_app.config)
    with s3_app.app_context():
        job = queue(session, project, learner, zip_of_run(offline_run).getvalue())
    s3_app.config.update(s3_settings(f"http://127.0.0.1:{free_port()}", "nowhere"))
    s3_app.extensions.pop("storage", None)
    assert jobs.import_offline_runs(s3_app, now=NOW) == {"retry": 1}
    session.refresh(job)
    assert job.state == ImportState.queued and job.attempts == 0 and job.error == ""
    assert jobs.import_offline_runs(s3_app, now=NOW) == {}  # waits RETRY_AFTER
    s3_app.config.update(good)
    s3_app.extensions.pop("storage", None)
    later = NOW + import_queue.RETRY_AFTER
    assert jobs.import_offline_runs(s3_app, now=later) == {"done": 1}
    session.refresh(job)
    assert job.state == ImportState.done and count(session, RunLink) == 1


def test_nul_characters_are_refused_or_dropped_not_a_500(
    ctx, session, project, learner, offline_run: OfflineRun
) -> None:
    """A NUL in the label is refused (nothing stored); in the browser's file name it is dropped.

    PostgreSQL cannot store NUL in text: either would otherwise fail the insert.
    """
    data = zip_of_run(offline_run).getvalue()
    with pytest.raises(ValidationError, match="character we cannot store"):
        import_queue.enqueue(
            session, project, learner, data, label="a\x00b", limits=LIMITS, now=NOW
        )
    session.rollback()
    assert count(session, OfflineImport) == 0 and count(session, StoredBlob) == 0
    job = queue(session, project, learner, data, filename="run\x00.zip")
    assert job.filename == "run.zip"
