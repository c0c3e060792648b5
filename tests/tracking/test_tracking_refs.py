"""W&B references: what a learner may paste, and the clear refusals."""

from __future__ import annotations

import pytest

from portfolio.tracking.provider import InvalidReference
from portfolio.tracking.refs import (
    WandbRef,
    parse_project_ref,
    parse_ref,
    parse_run_ref,
    validate_base_url,
)

RUN = ("ent", "proj", "abc123")


@pytest.mark.parametrize(
    "text",
    [
        "https://wandb.ai/ent/proj/runs/abc123",
        "https://wandb.ai/ent/proj/runs/abc123/",
        "https://wandb.ai/ent/proj/runs/abc123?nw=nwuser#charts",
        "https://wandb.ai/ent/proj/runs/abc123/overview",
        "https://wandb.ai/ent/proj/runs/abc123/logs?x=1",
        "  https://WANDB.ai/ent/proj/runs/abc123  ",
        "https://wandb.ai:443/ent/proj/runs/abc123",
        "wandb.ai/ent/proj/runs/abc123",
        "https://forge.coreweave.com/wandb/ent/proj/runs/abc123",
        "https://forge.coreweave.com/ent/proj/runs/abc123",
        "ent/proj/abc123",
        "ent/proj/runs/abc123",
    ],
)
def test_run_links_parse(text: str) -> None:
    """Every documented run link form yields entity, project and run id."""
    ref = parse_run_ref(text)
    assert (ref.entity, ref.project, ref.run_id) == RUN
    assert ref.path == "ent/proj/abc123"
    assert ref.is_run


def test_names_may_hold_dots_dashes_underscores() -> None:
    """W&B names use letters, digits, '-', '_' and '.'."""
    ref = parse_run_ref("my-team_1/proj.v2/run_a-1")
    assert ref == WandbRef("my-team_1", "proj.v2", "run_a-1", None)


@pytest.mark.parametrize(
    "text",
    [
        "https://wandb.ai/ent/proj",
        "https://wandb.ai/ent/proj/",
        "https://wandb.ai/ent/proj/workspace?nw=abc",
        "https://wandb.ai/ent/proj/table",
        "ent/proj",
    ],
)
def test_project_links_parse(text: str) -> None:
    """A project link (to follow runs by tag) has no run id."""
    ref = parse_project_ref(text)
    assert (ref.entity, ref.project, ref.run_id) == ("ent", "proj", None)
    assert ref.project_path == "ent/proj"


def test_self_hosted_host_needs_matching_base_url() -> None:
    """A self-hosted server's links are accepted only for the configured server."""
    link = "https://wandb.corp.example/ent/proj/runs/abc123"
    with pytest.raises(InvalidReference, match="wandb.corp.example, not W&B"):
        parse_run_ref(link)
    assert parse_run_ref(link, base_url="https://wandb.corp.example").host == "wandb.corp.example"
    api_style = "https://app.corp.example/ent/proj/runs/abc123"
    assert parse_run_ref(api_style, base_url="https://api.corp.example").run_id == "abc123"
    loopback = parse_run_ref(
        "http://127.0.0.1:8765/ent/proj/runs/abc123", base_url="http://127.0.0.1:8765"
    )
    assert loopback.host == "127.0.0.1:8765"
    with pytest.raises(InvalidReference, match="not W&B"):
        parse_run_ref(
            "http://127.0.0.1:9999/ent/proj/runs/abc123", base_url="http://127.0.0.1:8765"
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Paste a W&B run link"),
        ("   ", "Paste a W&B run link"),
        ("https://example.com/ent/proj/runs/abc", "That URL is on example.com, not W&B"),
        ("https://wandb.ai.evil.com/ent/proj/runs/abc", "wandb.ai.evil.com, not W&B"),
        ("https://wandb.ai@evil.com/ent/proj/runs/abc", "user name or password"),
        ("javascript:alert(1)", "full W&B link"),
        ("ftp://wandb.ai/ent/proj/runs/abc", "Only web links"),
        ("https://wandb.ai/ent", "no W&B project"),
        ("https://wandb.ai/ent/proj/runs/abc/evil", "not a W&B run page"),
        ("https://wandb.ai/ent/proj/reports/Thing--Vmlldzo", "report link, not a run"),
        ("https://wandb.ai/ent/proj/sweeps/abc", "sweep link, not a run"),
        ("https://wandb.ai/ent/proj/other/abc", "does not look like a W&B run"),
        ("ent/proj/abc/def", "does not look like a W&B run"),
        ("ent/../abc", "not a valid W&B project"),
        ("<script>/proj/abc", "not a valid W&B entity"),
        ("ent/proj/ab%2Fc", "not a valid W&B run id"),
        ("ent/proj/" + "a" * 129, "longer than 128 characters"),
        ("e" * 65 + "/proj/abc", "longer than 64 characters"),
        ("x" * 10_000, "too long"),
        ("ent/proj/abc def", "no spaces"),
        ("https://wandb.ai:99999/ent/proj", "invalid port"),
        ("/etc/passwd", "full W&B link"),
    ],
)
def test_bad_input_is_refused_clearly(text: str, message: str) -> None:
    """Malformed links, other hosts and bad names raise InvalidReference saying why."""
    with pytest.raises(InvalidReference, match=message):
        parse_ref(text)


def test_kind_is_enforced() -> None:
    """A run is required where a run is asked for, and a project where a project is."""
    with pytest.raises(InvalidReference, match="not a run"):
        parse_run_ref("https://wandb.ai/ent/proj")
    with pytest.raises(InvalidReference, match="single run"):
        parse_project_ref("ent/proj/abc123")


def test_server_addresses() -> None:
    """A credential's server address must be http(s); W&B's app hosts map to their API."""
    assert validate_base_url(None) is None and validate_base_url("  ") is None
    assert validate_base_url("https://wandb.ai/") == "https://api.wandb.ai"
    assert validate_base_url("https://forge.coreweave.com") == "https://api.forge.coreweave.com"
    assert validate_base_url("http://127.0.0.1:8765/") == "http://127.0.0.1:8765"
    for bad in ("wandb.corp", "ftp://x.example", "https://user:pw@x.example", "https://"):
        with pytest.raises(InvalidReference, match="web address"):
            validate_base_url(bad)
