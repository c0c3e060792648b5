"""Learners' own W&B keys: encrypted at rest, never shown back, and which key a link uses.

Keys are Fernet-encrypted under a key derived (HKDF-SHA256) from the dedicated
``CREDENTIALS_KEY`` setting, not from ``SECRET_KEY``: rotating the session secret must not
lose every saved key, and leaking one must not reveal the other. Several comma-separated
values rotate it (the first encrypts, all decrypt). Unset, a random one is generated into
``instance/credentials_key``, like the secret key. Only the last four characters stay in
clear, for display. A key never reaches a log or a page: errors carry our own messages and
the provider's repr hides it.

A link uses its creator's key for the link's server when they saved one; otherwise the
operator's server-wide ``WANDB_API_KEY`` when the link is on ``WANDB_BASE_URL``.
"""

from __future__ import annotations

import base64
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import update
from sqlmodel import Session, col, select

from ..auth.rules import ValidationError
from ..errors import NotFound
from ..keyfile import load_or_create_key
from ..models import RunLink, SyncState, TrackingCredential, User
from .provider import InvalidReference, TrackingError
from .refs import validate_base_url
from .settings import TrackingSettings, same_server
from .wait import call_with_deadline

logger = logging.getLogger(__name__)

KEY_FILE = "credentials_key"
_KEY_RE = re.compile(r"[A-Za-z0-9_-]{40,200}")
_HKDF_SALT = b"seasons/tracking-credentials/v1"


@dataclass(frozen=True)
class KeySource:
    """The key a sync will use, where it came from, or why there is none."""

    base_url: str
    api_key: str | None = field(default=None, repr=False)
    origin: str = ""  # "yours", "server" or "" (none)
    problem: str = ""  # a learner-readable reason when api_key is None
    provider: str = "wandb"  # which provider the key is for (mlflow_credentials: "mlflow")


def load_credentials_key(instance_path: str | os.PathLike[str]) -> str:
    """Read instance/credentials_key, creating it atomically on first use (see keyfile.py)."""
    return load_or_create_key(Path(instance_path) / KEY_FILE, setting="CREDENTIALS_KEY")


def derive_key(secret: str) -> bytes:
    """Derive a Fernet key from any text secret."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=b"fernet").derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(raw)


@lru_cache(maxsize=8)
def _fernet_for(secrets_: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(derive_key(s)) for s in secrets_])


def fernet() -> MultiFernet:
    """Return the app's cipher for saved keys."""
    configured = current_app.config.get("CREDENTIALS_KEY") or ""
    values = tuple(v.strip() for v in configured.split(",") if v.strip())
    if not values:
        values = (load_credentials_key(current_app.instance_path),)
    return _fernet_for(values)


def check_api_key(text: str | None) -> str:
    """Return a plausible W&B key, or raise a readable error (never echoing the key)."""
    key = (text or "").strip()
    secret = key.split("-", 1)[-1]  # W&B Server keys carry a "prefix-" before the 40+
    if not _KEY_RE.fullmatch(key) or len(secret) < 40:
        raise ValidationError(
            "That does not look like a W&B API key: copy the 40 or more letters and digits "
            "from your W&B user settings (API keys).",
            field="api_key",
        )
    return key


def list_credentials(session: Session, user_id: int) -> list[TrackingCredential]:
    """Return a user's saved keys (their secrets stay encrypted)."""
    query = select(TrackingCredential).where(TrackingCredential.user_id == user_id)
    return list(session.exec(query.order_by(TrackingCredential.created_at)))


def save_credential(
    session: Session,
    user: User,
    *,
    api_key: str,
    base_url: str | None,
    now: datetime,
    settings: TrackingSettings,
    verify: bool = True,
) -> tuple[TrackingCredential, str]:
    """Save (or replace) the user's key for a server; return it and a note for the user.

    With ``verify`` the key is tried against the server first: a key W&B refuses is not
    saved. If the server does not answer in time the key is saved unchecked.
    """
    key = check_api_key(api_key)
    try:
        server = validate_base_url(base_url) or "https://api.wandb.ai"
    except InvalidReference as err:
        raise ValidationError(err.message, field="base_url") from None
    note = ""
    if verify:
        provider = settings.provider(api_key=key, base_url=server)
        answer = call_with_deadline(provider.verify_key, settings.link_check_seconds)  # type: ignore[attr-defined]
        if isinstance(answer.error, TrackingError) and not answer.error.retryable:
            message = answer.error.message
            if "private" in message or "did not accept" in message:
                message = "W&B did not accept this key: check that you copied all of it."
            raise ValidationError(message, field="api_key")
        if answer.timed_out or answer.error is not None:
            note = " W&B did not answer just now, so the key could not be checked yet."
    credential = store_secret(
        session, user, provider="wandb", base_url=server, secret=key, shown=key[-4:], now=now
    )
    logger.info("user %s saved a W&B key for %s", user.id, server)
    return credential, note


def store_secret(
    session: Session,
    user: User,
    *,
    provider: str,
    base_url: str,
    secret: str,
    shown: str,
    now: datetime,
) -> TrackingCredential:
    """Encrypt and save (or replace) a user's secret for one server; retry failed links."""
    credential = session.exec(
        select(TrackingCredential).where(
            TrackingCredential.user_id == user.id,
            TrackingCredential.provider == provider,
            TrackingCredential.base_url == base_url,
        )
    ).first() or TrackingCredential(user_id=user.id, provider=provider, base_url=base_url)
    credential.secret_encrypted = fernet().encrypt(secret.encode())
    credential.last4 = shown
    credential.created_at = now
    session.add(credential)
    session.flush()
    requeue_failed_links(session, user_id=user.id, base_url=base_url, now=now)
    return credential


def delete_credential(session: Session, user: User, credential_id: int) -> TrackingCredential:
    """Delete one of the user's saved keys (404 for anyone else's)."""
    credential = session.get(TrackingCredential, credential_id)
    if credential is None or credential.user_id != user.id:
        raise NotFound("There is no such saved key.")
    session.delete(credential)
    session.flush()
    logger.info("user %s deleted their W&B key for %s", user.id, credential.base_url)
    return credential


def requeue_failed_links(session: Session, *, user_id: int, base_url: str, now: datetime) -> int:
    """Retry at once the user's links on that server that failed (a new key may fix them)."""
    links = session.exec(
        select(RunLink.id, RunLink.base_url).where(
            RunLink.created_by_id == user_id, RunLink.sync_state == SyncState.error.value
        )
    ).all()
    ids = [link_id for link_id, url in links if same_server(url, base_url)]
    if ids:
        session.execute(
            update(RunLink)
            .where(col(RunLink.id).in_(ids))
            .values(sync_state=SyncState.queued.value, next_sync_at=now)
            .execution_options(synchronize_session=False)
        )
    return len(ids)


def resolve_key(
    session: Session,
    *,
    user_id: int | None,
    base_url: str,
    settings: TrackingSettings,
    provider: str = "wandb",
) -> KeySource:
    """Pick the key for a link on ``base_url`` created by ``user_id``."""
    if provider == "mlflow":
        from . import mlflow_credentials  # it imports this module

        return mlflow_credentials.resolve(session, user_id=user_id, base_url=base_url)
    problem = ""
    if user_id is not None:
        saved = [c for c in list_credentials(session, user_id) if c.provider == "wandb"]
        saved.sort(key=lambda c: c.base_url != base_url)  # an exact match first
        for credential in saved:
            if not same_server(credential.base_url, base_url):
                continue
            try:
                key = fernet().decrypt(credential.secret_encrypted).decode()
            except InvalidToken:
                logger.warning("saved W&B key %s cannot be decrypted", credential.id)
                problem = (
                    "Your saved W&B key can no longer be read (the server's encryption key "
                    "changed); save it again in settings."
                )
                break
            return KeySource(base_url=base_url, api_key=key, origin="yours")
    if settings.server_key and same_server(settings.base_url, base_url):
        return KeySource(base_url=base_url, api_key=settings.server_key, origin="server")
    if not problem:
        problem = (
            "No W&B API key is set for this W&B server: add your own key under "
            "Settings → W&B key, or ask the operator to set a server-wide key."
        )
    return KeySource(base_url=base_url, problem=problem)
