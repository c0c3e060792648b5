"""Models of the run-link operations (rules in tracking.service)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from .schemas import Input, Output, Text, UTCTime, text


class SnapshotOut(Output):
    """What the run looked like at the last successful sync."""

    name: str
    state: str = Field(
        description="The run's state: running, finished, crashed… (MLflow's RUNNING, FINISHED, "
        "FAILED, KILLED, SCHEDULED become running, finished, failed, killed, pending)."
    )
    url: str
    started_at: UTCTime | None
    fetched_at: UTCTime
    summary: dict[str, JsonValue] = Field(
        description='Final metrics, flattened keys ("best.acc"); NaN/inf as "NaN"/"Infinity".'
    )


class RunLinkOut(Output):
    id: int
    project_id: int
    kind: str = Field(
        description="run, or project_filter (a W&B project or MLflow experiment followed by tags)."
    )
    provider: str = Field(description="wandb, wandb-offline (an uploaded run) or mlflow.")
    ref: str = Field(
        description='W&B: "entity/project/run_id" (or "entity/project"); '
        'MLflow: "experiment_id/run_id" (or "experiment_id").'
    )
    server: str = Field(description="The tracking server: W&B's API address, or the MLflow server.")
    label: str
    hidden: bool = Field(description="Hidden from the public page.")
    tags: list[str] = Field(description="For a project filter: runs with any of these tags.")
    parent_id: int | None = Field(description="The project filter that found this run.")
    sync_state: str = Field(description="queued, syncing, synced or error.")
    sync_status: str = Field(description='In words, e.g. "synced 2 minutes ago".')
    last_error: str
    held_reason: str = Field(
        description="Why a newer result was not applied (it was less complete than the "
        "current one); empty when none waits, and always empty for a mentor (members only). "
        "A member chooses with `POST …/keep` or `POST …/replace` (or on the runs page)."
    )
    matched_runs: int | None = Field(
        description="For a project filter: how many runs its last listing matched (at most "
        "200 are followed); null for a run, and until the first listing after a tag change."
    )
    matched: str = Field(
        description='The same in words, e.g. "2 runs carry the tag best in maya/houses"; '
        "empty when matched_runs is null. The listing's own outcome is sync_state/last_error."
    )
    failures: int = Field(description="Failed syncs in a row.")
    last_synced_at: UTCTime | None
    next_sync_at: UTCTime
    created_at: UTCTime
    snapshot: SnapshotOut | None


class RunLinkPage(Output):
    items: list[RunLinkOut]
    next_cursor: str | None


class RunLinkCreate(Input):
    ref: Annotated[Text, text(2000, 1)] = Field(
        description="A W&B run link (https://wandb.ai/<entity>/<project>/runs/<id>) or "
        '"entity/project/run_id"; with kind "project", a W&B project link or "entity/project". '
        'With provider "mlflow": an MLflow UI run link (<server>/#/experiments/<id>/runs/<run id>) '
        'or "experiment_id/run_id"; with kind "project", an experiment link or its id. The MLflow '
        "server must be saved in the caller's settings first."
    )
    provider: Literal["wandb", "mlflow"] = Field(default="wandb", description="The tracker.")
    kind: Literal["run", "project"] = Field(default="run")
    tags: list[Annotated[Text, text(64, 1)]] = Field(
        default_factory=list,
        max_length=10,
        description='With kind "project": any of these (MLflow: a tag key, or key=value).',
    )
    label: Annotated[Text, text(120)] = Field(default="", description="A name for the page.")
    hidden: bool = Field(default=False, description="Keep it off the public page.")


class RunLinkUpdate(Input):
    """The fields to change; those left out stay as they are."""

    label: Annotated[Text, text(120)] | None = Field(default=None, description="A new name.")
    hidden: bool | None = Field(default=None, description="Keep it off the public page.")
    tags: list[Annotated[Text, text(64, 1)]] | None = Field(
        default=None,
        max_length=10,
        description="Project filters only: follow the runs with any of these tags instead "
        "(an empty list: all runs). Takes effect at once: the filter is queued, and its next "
        "listing links the runs that now match and drops those that no longer do.",
    )


class OfflineUploadQuery(BaseModel):
    """What the zip body cannot say: the run's name on the page and whether to hide it."""

    model_config = ConfigDict(extra="ignore")

    label: Annotated[Text, text(120)] = Field(default="", description="A name for the page.")
    hidden: bool = Field(default=False, description="Hide the run from visitors.")
    filename: Annotated[Text, text(200)] = Field(
        default="upload.zip", description="The uploaded folder's name, shown while importing."
    )


class OfflineImportOut(Output):
    id: int
    project_id: int
    state: Literal["queued", "importing", "done", "failed", "held"] = Field(
        description='"held": the run was read but is less complete than the snapshot it '
        "would replace, so the current results stay (see warning)."
    )
    filename: str
    size: int
    label: str
    ref: str = Field(description="The imported run (entity/project/run_id), once done.")
    link_id: int | None = Field(description="The run link it became, once done.")
    error: str = Field(description="Why the import failed, for the learner.")
    warning: str = Field(
        description="What the uploader should know about a run that was read: why it was "
        "held, or that its file ends early (no exit record)."
    )
    created_at: UTCTime
    finished_at: UTCTime | None
    status_url: str = Field(description="Poll this address for the import's state.")


class OfflineImportPage(Output):
    items: list[OfflineImportOut] = Field(description="The latest uploads, newest first.")
