"""Response models of the public, token-free operations: what any visitor may read."""

from __future__ import annotations

from pydantic import Field, JsonValue

from .schemas import Output, TagOut, UTCTime


class PublicMilestone(Output):
    title: str
    due_at: UTCTime
    done_at: UTCTime | None


class PublicRun(Output):
    id: int
    label: str = Field(description="The learner's label, else the run's name.")
    state: str
    url: str = Field(description="The run's page on its tracker (W&B or the MLflow UI).")
    source: str = Field(description='Where the run comes from: "W&B" or "MLflow".')
    started_at: UTCTime | None
    summary: dict[str, JsonValue] = Field(
        description='Final metrics, flattened keys ("best.acc"); NaN/inf as "NaN"/"Infinity".'
    )


class PublicProjectCard(Output):
    owner: str
    slug: str
    title: str
    summary: str
    season: str
    url: str
    updated_at: UTCTime


class PublicProjectPage(Output):
    items: list[PublicProjectCard]
    next_cursor: str | None


class PublicProject(PublicProjectCard):
    """A public or unlisted project, as its page shows it."""

    members: list[str]
    tags: list[TagOut] = Field(description="The project's tags, in the learner's order.")
    repo_url: str
    problem_md: str
    body_md: str = Field(description="The write-up, in Markdown.")
    headline_metric: str
    headline_goal: str
    headline_value: float | None = Field(description="The best visible run's headline metric.")
    milestones: list[PublicMilestone]
    runs: list[PublicRun] = Field(description="Visible linked runs with a synced snapshot.")
