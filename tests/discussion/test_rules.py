"""The text rules: mentions, links, bodies; and the atomic cache-version bump."""

from __future__ import annotations

import pytest

from portfolio.auth.rules import ValidationError
from portfolio.discussion import service
from portfolio.discussion.rules import (
    MAX_MENTIONS,
    check_body,
    count_links,
    mentioned_handles,
)
from portfolio.models import Project


def test_mentions_skip_code_emails_and_repeats() -> None:
    text = (
        "Thanks @Mira and @mira! Mail me at pete@example.com.\n"
        "```\n@otto in a fence\n```\n"
        "Inline `@sam` too; (@ada-lovelace), @x, @bad--handle, @ok-1."
    )
    assert mentioned_handles(text) == ["mira", "ada-lovelace", "ok-1"]


def test_mentions_are_capped() -> None:
    text = " ".join(f"@user{n:02d}" for n in range(MAX_MENTIONS + 5))
    assert len(mentioned_handles(text)) == MAX_MENTIONS


def test_links_are_counted_outside_code() -> None:
    text = "[a](https://a.example) http://b.example www.c.example `https://d.example`"
    assert count_links(text) == 3
    assert count_links("no links, just example.com") == 0


def test_check_body() -> None:
    assert check_body("  hi\x00 there ", label="It", max_len=20) == "hi there"
    with pytest.raises(ValidationError, match="cannot be empty"):
        check_body("\u200b \n", label="It", max_len=20)
    with pytest.raises(ValidationError, match="at most 3 characters"):
        check_body("four", label="It", max_len=3)


def test_parse_id() -> None:
    assert service.parse_id("", field="f", label="F") is None
    assert service.parse_id(" 42 ", field="f", label="F") == 42
    for bad in ("x", "-1", "2147483648", "1.5", "\u00b2", "\u0661"):
        with pytest.raises(ValidationError):
            service.parse_id(bad, field="f", label="F")


def test_touch_increments_in_sql_not_from_a_stale_copy(world, app) -> None:
    """Two writers holding the same old version still move it on by two."""
    from sqlmodel import Session

    engine = app.extensions["engine"]
    start = world.refresh(world.project).version
    with Session(engine) as one, Session(engine) as two:
        stale_one, stale_two = (
            one.get(Project, world.project.id),
            two.get(Project, world.project.id),
        )
        assert stale_one.version == stale_two.version == start
        service.touch(one, world.project.id, now=stale_one.created_at, activity=False)
        one.commit()
        service.touch(two, world.project.id, now=stale_two.created_at, activity=False)
        two.commit()
    assert world.refresh(world.project).version == start + 2
