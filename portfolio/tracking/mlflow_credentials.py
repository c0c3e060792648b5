"""Learners' MLflow servers: the address, plus an optional token or user name and password.

MLflow has no public cloud: every learner reads from their own or their course's server, so
a server must be saved before its runs can be linked (links on other addresses are refused,
which also keeps the sync from calling arbitrary pasted addresses). The auth is stored like
a W&B key (``credentials.fernet``: Fernet under ``CREDENTIALS_KEY``) as a small JSON object,
in the same ``tracking_credentials`` table with ``provider = "mlflow"``; a server without
auth stores ``{}``. Only the last four characters of the token or password stay in clear.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from cryptography.fernet import InvalidToken
from sqlmodel import Session

from ..auth.rules import ValidationError
from ..models import TrackingCredential, User
from .credentials import KeySource, fernet, list_credentials, store_secret
from .mlflow_provider import MlflowProvider
from .mlflow_refs import validate_server_url
from .provider import InvalidReference, TrackingError
from .settings import TrackingSettings
from .wait import call_with_deadline

logger = logging.getLogger(__name__)

PROVIDER = "mlflow"
MAX_SECRET = 2_000
NO_SERVER = (
    "This MLflow server is not among your saved servers: add it under Settings → Tracking "
    "servers (with its token or user name and password, if it needs one)."
)


def list_servers(session: Session, user_id: int) -> list[TrackingCredential]:
    """Return the user's saved MLflow servers (their auth stays encrypted)."""
    return [c for c in list_credentials(session, user_id) if c.provider == PROVIDER]


def _auth_json(token: str, username: str, password: str) -> tuple[str, str]:
    """Check the auth fields; return the JSON to encrypt and the characters shown."""
    token, username = (token or "").strip(), (username or "").strip()
    password = password or ""
    if token and (username or password):
        raise ValidationError(
            "Use either a token or a user name and password, not both.", field="token"
        )
    if password and not username:
        raise ValidationError("A password needs a user name.", field="username")
    for name, value in (("token", token), ("username", username), ("password", password)):
        if len(value) > MAX_SECRET or not value.isprintable():
            raise ValidationError(
                f"The {name.replace('username', 'user name')} is too long or holds control "
                "characters.",
                field=name,
            )
    if token:
        return json.dumps({"token": token}), token[-4:]
    if username:
        return json.dumps({"username": username, "password": password}), password[-4:]
    return "{}", ""


def save_server(
    session: Session,
    user: User,
    *,
    base_url: str,
    token: str = "",
    username: str = "",
    password: str = "",
    now: datetime,
    settings: TrackingSettings,
    verify: bool = True,
) -> tuple[TrackingCredential, str]:
    """Save (or replace) an MLflow server and its auth; return it and a note for the user.

    With ``verify`` the server is asked once: refused credentials save nothing; a server
    that does not answer in time is saved unchecked, with a note saying so.
    """
    try:
        server = validate_server_url(base_url)
    except InvalidReference as err:
        raise ValidationError(err.message, field="base_url") from None
    secret, shown = _auth_json(token, username, password)
    note = ""
    if verify:
        provider = MlflowProvider(api_key=secret, base_url=server, timeout=settings.timeout)
        answer = call_with_deadline(provider.verify, settings.link_check_seconds)
        if isinstance(answer.error, TrackingError) and not answer.error.retryable:
            raise ValidationError(answer.error.message, field="base_url")
        if answer.timed_out or answer.error is not None:
            reason = answer.error.message if isinstance(answer.error, TrackingError) else ""
            note = f" The server could not be checked just now. {reason}".rstrip()
    credential = store_secret(
        session, user, provider=PROVIDER, base_url=server, secret=secret, shown=shown, now=now
    )
    logger.info("user %s saved the MLflow server %s", user.id, server)
    return credential, note


def resolve(session: Session, *, user_id: int | None, base_url: str) -> KeySource:
    """Pick the saved auth for a link on ``base_url`` created by ``user_id``."""
    for credential in list_servers(session, user_id) if user_id is not None else []:
        if credential.base_url != base_url:
            continue
        try:
            secret = fernet().decrypt(credential.secret_encrypted).decode()
        except InvalidToken:
            logger.warning("saved MLflow auth %s cannot be decrypted", credential.id)
            return KeySource(
                base_url=base_url,
                provider=PROVIDER,
                problem="Your saved MLflow server's password or token can no longer be read "
                "(the server's encryption key changed); save it again in settings.",
            )
        return KeySource(base_url=base_url, api_key=secret, origin="yours", provider=PROVIDER)
    return KeySource(base_url=base_url, provider=PROVIDER, problem=NO_SERVER)
