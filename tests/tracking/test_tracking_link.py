"""Linking runs and W&B projects (service level), checked with the real wandb client."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

from devtools.wandb.fakeserver import FakeWandb, basic_auth
from portfolio.auth.rules import ValidationError
from portfolio.errors import Forbidden
from portfolio.models import LinkKind, RunLink, SyncState
from portfolio.tracking import credentials, link

from .conftest import TEST_KEY
from .test_tracking_wandb import add_run

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
LEARNER_KEY = "learnerkey" * 4


def count_links(session) -> int:
    """Return how many run links exist."""
    return session.exec(select(func.count()).select_from(RunLink)).one()


def test_link_by_url_checks_the_run_and_queues_it(
    ctx, session, fake_wandb: FakeWandb, project, learner, settings
) -> None:
    """A pasted run URL is confirmed with W&B, then saved as queued for the scheduler."""
    add_run(fake_wandb)
    created = link.add_run_link(
        session, project, learner, f"{fake_wandb.url}/learner/mnist/runs/abc123/overview",
        "Baseline", now=NOW, settings=settings,
    )  # fmt: skip
    session.commit()
    assert created.ref == "learner/mnist/abc123" and created.kind == LinkKind.run
    assert created.base_url == fake_wandb.url and created.label == "Baseline"
    assert created.sync_state == SyncState.queued and created.next_sync_at == NOW
    assert created.created_by_id == learner.id and not created.hidden
    assert fake_wandb.operations() == ["Viewer", "Run"]
    assert {r.authorization for r in fake_wandb.received} == {basic_auth(TEST_KEY)}


def test_link_by_path_uses_the_default_server(
    ctx, session, fake_wandb: FakeWandb, project, learner, settings
) -> None:
    """entity/project/run_id goes to WANDB_BASE_URL."""
    add_run(fake_wandb)
    created = link.add_run_link(
        session, project, learner, "learner/mnist/abc123", now=NOW, settings=settings
    )
    assert created.base_url == fake_wandb.url


def test_duplicate_link_is_a_clear_error(
    ctx, session, fake_wandb: FakeWandb, project, learner, settings
) -> None:
    """The same run twice (as URL, then as path) is refused; one row remains."""
    add_run(fake_wandb)
    link.add_run_link(
        session, project, learner, f"{fake_wandb.url}/learner/mnist/runs/abc123",
        now=NOW, settings=settings,
    )  # fmt: skip
    session.commit()
    with pytest.raises(ValidationError, match="already linked"):
        link.add_run_link(
            session, project, learner, "learner/mnist/abc123", now=NOW, settings=settings
        )
    session.rollback()
    assert count_links(session) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("https://evil.example.com/learner/mnist/runs/abc123", "not W&B"),
        ("not a link at all", "no spaces"),
        ("learner/mnist", "not a run"),
        ("javascript:alert(1)", "link"),
        ("learner/" + "p" * 10_000 + "/abc", "too long"),
        ("https://wandb.ai/learner/mnist/reports/abc", "report"),
    ],
)
def test_bad_links_are_refused_before_any_request(
    ctx, session, fake_wandb: FakeWandb, project, learner, settings, text: str, message: str
) -> None:
    """Malformed text and other hosts: a readable error, nothing sent, nothing saved."""
    with pytest.raises(ValidationError, match=message) as caught:
        link.add_run_link(session, project, learner, text, now=NOW, settings=settings)
    assert caught.value.field == "ref"
    assert fake_wandb.received == []
    session.rollback()
    assert count_links(session) == 0


def test_nonexistent_run_is_refused(
    ctx, session, fake_wandb: FakeWandb, project, learner, settings
) -> None:
    """W&B's "no such run" becomes a plain sentence and nothing is saved."""
    with pytest.raises(ValidationError, match="W&B says this run does not exist"):
        link.add_run_link(
            session, project, learner, "learner/mnist/nope", now=NOW, settings=settings
        )
    session.rollback()
    assert count_links(session) == 0


def test_private_run_without_own_key_is_refused(
    ctx, session, wandb_app, project, learner, wandb_home
) -> None:
    """The server-wide key may not read a private run: the learner is told to add a key."""
    from portfolio.tracking.settings import TrackingSettings

    with FakeWandb(api_key=LEARNER_KEY, default_entity="learner") as private:
        add_run(private)
        wandb_app.config["WANDB_BASE_URL"] = private.url
        settings = TrackingSettings.current()
        with pytest.raises(ValidationError, match="private"):
            link.add_run_link(
                session, project, learner, "learner/mnist/abc123", now=NOW, settings=settings
            )
        session.rollback()
        assert count_links(session) == 0
        credentials.save_credential(
            session, learner, api_key=LEARNER_KEY, base_url=private.url, now=NOW,
            settings=settings,
        )  # fmt: skip
        created = link.add_run_link(
            session, project, learner, "learner/mnist/abc123", now=NOW, settings=settings
        )
        assert created.base_url == private.url
        assert private.received[-1].authorization == basic_auth(LEARNER_KEY)


def test_without_any_key_linking_says_so(
    ctx, session, wandb_app, fake_wandb: FakeWandb, project, learner
) -> None:
    """No server key and no own key: a plain sentence, and no request to W&B."""
    from portfolio.tracking.settings import TrackingSettings

    wandb_app.config["WANDB_API_KEY"] = None
    with pytest.raises(ValidationError, match="No W&B API key is set"):
        link.add_run_link(
            session, project, learner, "learner/mnist/abc123", now=NOW,
            settings=TrackingSettings.current(),
        )  # fmt: skip
    assert fake_wandb.received == []


def test_cloud_links_need_a_cloud_key(ctx, session, project, learner, settings) -> None:
    """A wandb.ai or Forge link is on W&B's cloud, whose key the fake server's is not."""
    for text in (
        "https://wandb.ai/learner/mnist/runs/abc123",
        "https://forge.coreweave.com/wandb/learner/mnist/runs/abc123",
    ):
        with pytest.raises(ValidationError, match="No W&B API key"):
            link.add_run_link(session, project, learner, text, now=NOW, settings=settings)


def test_cloud_key_serves_wandb_and_forge_links(ctx, session, project, learner, settings) -> None:
    """A key saved for api.wandb.ai is used for forge.coreweave.com links too."""
    credentials.save_credential(
        session, learner, api_key=LEARNER_KEY, base_url="https://wandb.ai", now=NOW,
        settings=settings, verify=False,
    )  # fmt: skip
    forge = link.resolve_target(
        session, learner, "https://forge.coreweave.com/learner/mnist/runs/abc123",
        kind="run", settings=settings,
    )  # fmt: skip
    assert forge.base_url == "https://api.forge.coreweave.com"
    source = credentials.resolve_key(
        session, user_id=learner.id, base_url=forge.base_url, settings=settings
    )
    assert source.api_key == LEARNER_KEY and source.origin == "yours"


def test_slow_wandb_still_links_as_queued(
    ctx, session, wandb_app, fake_wandb: FakeWandb, project, learner
) -> None:
    """When W&B does not answer within the check time, the link is saved, queued."""
    from portfolio.tracking.settings import TrackingSettings

    add_run(fake_wandb)
    wandb_app.config["WANDB_LINK_CHECK_SECONDS"] = 0.3
    fake_wandb.fail("slow", operations={"Run"}, delay=3)
    created = link.add_run_link(
        session, project, learner, "learner/mnist/abc123", now=NOW,
        settings=TrackingSettings.current(),
    )  # fmt: skip
    assert created.id is not None and created.sync_state == SyncState.queued


def test_label_and_membership_rules(
    ctx, session, fake_wandb: FakeWandb, project, learner, make_user, settings
) -> None:
    """A 10,000-character label is refused; strangers may not link."""
    add_run(fake_wandb)
    with pytest.raises(ValidationError, match="Label is at most 120"):
        link.add_run_link(
            session, project, learner, "learner/mnist/abc123", "x" * 10_000, now=NOW,
            settings=settings,
        )  # fmt: skip
    stranger = make_user("stranger")
    with pytest.raises(Forbidden):
        link.add_run_link(
            session, project, stranger, "learner/mnist/abc123", now=NOW, settings=settings
        )
    assert fake_wandb.received == []


def test_project_filter_with_tags(
    ctx, session, fake_wandb: FakeWandb, project, learner, settings
) -> None:
    """A W&B project is followed with a tag filter; an unknown project is refused."""
    add_run(fake_wandb)
    created = link.add_project_filter(
        session, project, learner, f"{fake_wandb.url}/learner/mnist", "portfolio, best",
        now=NOW, settings=settings,
    )  # fmt: skip
    assert created.kind == LinkKind.project_filter and created.ref == "learner/mnist"
    assert created.tag_filter == "portfolio,best"
    listing = next(r for r in fake_wandb.received if r.operation == "Runs")
    assert listing.variables["filters"] == '{"tags": {"$in": ["portfolio", "best"]}}'
    with pytest.raises(ValidationError, match="single run"):
        link.add_project_filter(
            session, project, learner, "learner/mnist/abc123", now=NOW, settings=settings
        )
    with pytest.raises(ValidationError, match="tag is at most"):
        link.parse_tags("x" * 65)
    with pytest.raises(ValidationError, match="project does not exist"):
        link.add_project_filter(
            session, project, learner, "learner/elsewhere", now=NOW, settings=settings
        )


def test_update_unlink_and_request_sync(
    ctx, session, fake_wandb: FakeWandb, project, learner, settings
) -> None:
    """Label and hide a link; "Sync now" queues it unless a sync holds it; unlink removes it."""
    add_run(fake_wandb)
    created = link.add_run_link(
        session, project, learner, "learner/mnist/abc123", now=NOW, settings=settings
    )
    version = project.version
    link.update_link(session, created, label="<b>best</b>", hidden=True, now=NOW)
    session.commit()
    session.refresh(project)
    assert created.label == "<b>best</b>" and created.hidden and project.version == version + 1
    created.sync_state = SyncState.syncing
    created.next_sync_at = datetime(2027, 1, 10, 12, 20, tzinfo=UTC)  # a live lease
    assert link.request_sync(session, created, NOW) is False
    created.next_sync_at = datetime(2027, 1, 10, 11, 0, tzinfo=UTC)  # the lease ran out
    assert link.request_sync(session, created, NOW) is True
    assert created.sync_state == SyncState.queued and created.next_sync_at == NOW
    link.unlink(session, project, created, now=NOW)
    session.commit()
    assert count_links(session) == 0
