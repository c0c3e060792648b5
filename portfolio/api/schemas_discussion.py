"""Models of the progress-update operations (rules in discussion.service)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .schemas import Id, Input, Output, Text, UTCTime, text

MAX_UPDATE_CHARS = 20_000  # discussion.rules.MAX_UPDATE_CHARS


class UpdateOut(Output):
    id: int
    project_id: int
    author: str = Field(description="The author's handle.")
    body_md: str
    body_html: str = Field(description="The body rendered and sanitised, as the page shows it.")
    milestone_id: int | None
    run_link_ids: list[int]
    feedback_requested: bool
    created_at: UTCTime
    edited_at: UTCTime | None


class UpdatePage(Output):
    items: list[UpdateOut]
    next_cursor: str | None


class UpdateCreate(Input):
    body_md: Annotated[Text, text(MAX_UPDATE_CHARS, 1)] = Field(
        description="What you did, in Markdown."
    )
    milestone_id: Id | None = Field(default=None, description="A milestone of this project.")
    run_link_ids: list[Id] = Field(
        default_factory=list, max_length=20, description="Runs linked to this project."
    )
    ask_feedback: bool = Field(default=False, description="Ask your mentors for feedback.")
    any_mentor: bool = Field(default=False, description="With ask_feedback: any mentor may answer.")
