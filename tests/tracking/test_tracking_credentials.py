"""Learners' W&B keys: encrypted at rest, checked with W&B, never shown or logged."""

from __future__ import annotations

import logging
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import InvalidToken
from sqlalchemy import text

from devtools.wandb.fakeserver import FakeWandb
from portfolio.auth.rules import ValidationError
from portfolio.errors import NotFound
from portfolio.models import RunLink, SyncState, TrackingCredential
from portfolio.tracking import credentials

from .conftest import TEST_KEY

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
OWN_KEY = "ownkey0123456789" * 3


def test_key_is_encrypted_at_rest_and_only_last4_kept(
    ctx, session, wandb_app, fake_wandb: FakeWandb, learner, settings, caplog
) -> None:
    """The stored bytes do not contain the key; it decrypts; the log never shows it."""
    caplog.set_level(logging.DEBUG)
    fake_wandb.api_key = None  # accept any key
    saved, note = credentials.save_credential(
        session, learner, api_key=f"  {OWN_KEY} ", base_url=fake_wandb.url, now=NOW,
        settings=settings,
    )  # fmt: skip
    session.commit()
    assert note == "" and saved.last4 == OWN_KEY[-4:] and saved.base_url == fake_wandb.url
    raw = session.execute(text("SELECT secret_encrypted FROM tracking_credentials")).scalar()
    assert OWN_KEY.encode() not in bytes(raw)
    source = credentials.resolve_key(
        session, user_id=learner.id, base_url=fake_wandb.url, settings=settings
    )
    assert source.api_key == OWN_KEY and source.origin == "yours"
    assert OWN_KEY not in repr(source) and OWN_KEY not in caplog.text
    assert fake_wandb.operations() == ["Viewer"]  # the key was checked once


def test_wrong_and_malformed_keys_are_refused(
    ctx, session, fake_wandb: FakeWandb, learner, settings
) -> None:
    """A key W&B rejects, or one that cannot be a key, is not saved."""
    with pytest.raises(ValidationError, match="did not accept this key"):
        credentials.save_credential(
            session, learner, api_key=OWN_KEY, base_url=fake_wandb.url, now=NOW,
            settings=settings,
        )  # fmt: skip
    for bad in ("short", "x" * 39, "has spaces " * 5, "<script>" * 6, "local-" + "k" * 39):
        with pytest.raises(ValidationError, match="does not look like a W&B API key") as caught:
            credentials.save_credential(
                session, learner, api_key=bad, base_url=fake_wandb.url, now=NOW,
                settings=settings,
            )  # fmt: skip
        assert bad not in caught.value.message
    with pytest.raises(ValidationError, match="web address"):
        credentials.save_credential(
            session, learner, api_key=TEST_KEY, base_url="ftp://x", now=NOW, settings=settings
        )
    session.rollback()
    assert credentials.list_credentials(session, learner.id) == []


def test_saving_again_replaces_and_deleting_removes(
    ctx, session, fake_wandb: FakeWandb, learner, make_user, settings
) -> None:
    """One key per server and user; only the owner may delete it."""
    fake_wandb.api_key = None
    for key in (OWN_KEY, TEST_KEY):
        credentials.save_credential(
            session, learner, api_key=key, base_url=fake_wandb.url, now=NOW, settings=settings
        )
    session.commit()
    (saved,) = credentials.list_credentials(session, learner.id)
    assert saved.last4 == TEST_KEY[-4:]
    with pytest.raises(NotFound):
        credentials.delete_credential(session, make_user("other"), saved.id)
    credentials.delete_credential(session, learner, saved.id)
    session.commit()
    assert session.get(TrackingCredential, saved.id) is None


def test_saving_a_key_retries_failed_links(
    ctx, session, fake_wandb: FakeWandb, learner, project, settings
) -> None:
    """A new key may fix "private" errors, so the learner's failed links are queued."""
    failed = RunLink(
        project_id=project.id, ref="learner/mnist/x", base_url=fake_wandb.url,
        created_by_id=learner.id, sync_state=SyncState.error,
        next_sync_at=datetime(2027, 2, 1, tzinfo=UTC),
    )  # fmt: skip
    session.add(failed)
    session.commit()
    credentials.save_credential(
        session, learner, api_key=TEST_KEY, base_url=fake_wandb.url, now=NOW, settings=settings
    )
    session.commit()
    session.refresh(failed)
    assert failed.sync_state == SyncState.queued and failed.next_sync_at == NOW


def test_unreachable_server_saves_the_key_unchecked(ctx, session, learner, settings) -> None:
    """When W&B does not answer, the key is saved and the learner is told it is unchecked."""
    gone = FakeWandb()
    url = gone.url
    gone.stop()
    _, note = credentials.save_credential(
        session, learner, api_key=TEST_KEY, base_url=url, now=NOW, settings=settings
    )
    assert "could not be checked" in note


def test_generated_key_file_and_rotation(ctx, wandb_app, tmp_path: Path) -> None:
    """Unset, a private key file is generated; several keys rotate (first encrypts)."""
    path = Path(wandb_app.instance_path) / credentials.KEY_FILE
    token = credentials.fernet().encrypt(b"secret")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert credentials.load_credentials_key(wandb_app.instance_path) == path.read_text().strip()
    old = path.read_text().strip()
    wandb_app.config["CREDENTIALS_KEY"] = f"a-new-long-random-credentials-key, {old}"
    assert credentials.fernet().decrypt(token) == b"secret"
    wandb_app.config["CREDENTIALS_KEY"] = "a-new-long-random-credentials-key"
    with pytest.raises(InvalidToken):
        credentials.fernet().decrypt(token)


def test_unreadable_key_falls_back_with_a_clear_problem(
    ctx, session, wandb_app, fake_wandb: FakeWandb, learner, settings
) -> None:
    """After the encryption key changed, the learner is asked to save their key again."""
    fake_wandb.api_key = None
    credentials.save_credential(
        session, learner, api_key=OWN_KEY, base_url="https://api.wandb.ai", now=NOW,
        settings=settings, verify=False,
    )  # fmt: skip
    wandb_app.config["CREDENTIALS_KEY"] = "another-credentials-key-entirely"
    source = credentials.resolve_key(
        session, user_id=learner.id, base_url="https://api.wandb.ai", settings=settings
    )
    assert source.api_key is None and "save it again" in source.problem
    server = credentials.resolve_key(
        session, user_id=learner.id, base_url=fake_wandb.url, settings=settings
    )
    assert server.origin == "server" and server.api_key == TEST_KEY
