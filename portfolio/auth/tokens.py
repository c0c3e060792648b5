"""Personal access tokens: made in settings, presented by scripts to the JSON API.

Only a SHA-256 of each token is stored. The token is 256 random bits, so a
fast hash is enough (nothing to stretch against a dictionary) and finding it
is one index probe. The plaintext is shown once, when it is created.

Tokens are honoured by the API blueprint alone, which has no admin actions and
no password or email change: holding a token never gives more than its scopes.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from ..errors import Conflict, DomainError, NotFound
from ..models import ApiToken, User
from .rules import ValidationError, check_length

logger = logging.getLogger(__name__)

# Recognisable in logs and by secret scanners; the prefix column keeps 12 characters.
TOKEN_PREFIX = "sns_"
SHOWN_CHARS = 12
MAX_TOKEN_CHARS = 200
MAX_ACTIVE = 50
MAX_LIFETIME = timedelta(days=366)
# last_used_at is for people ("used 3 minutes ago"); writing it on every call of a
# busy script would turn each read into a write, so it is refreshed at most this often.
TOUCH_EVERY = timedelta(minutes=1)


class Scope(StrEnum):
    read = "read"
    write = "write"


class TokenState(StrEnum):
    active = "active"
    expired = "expired"
    revoked = "revoked"


class InvalidToken(DomainError):
    """The presented token is unknown, expired or revoked; the message says which."""

    status = 401


@dataclass(frozen=True)
class NewToken:
    """A token just created: the row, and the secret that is never shown again."""

    token: ApiToken
    secret: str


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def scopes_for(access: str) -> list[str]:
    """Turn a chosen access level into stored scopes: write implies read.

    A script that may change a project must also be able to see it; asking
    people to tick both would only produce write tokens that cannot read.
    """
    try:
        level = Scope(access)
    except ValueError as exc:
        raise ValidationError("Choose read or write access.", field="access") from exc
    return [Scope.read.value] if level == Scope.read else [Scope.read.value, Scope.write.value]


def state(token: ApiToken, now: datetime) -> TokenState:
    if token.revoked_at is not None:
        return TokenState.revoked
    if token.expires_at is not None and token.expires_at <= now:
        return TokenState.expired
    return TokenState.active


def create(
    session: Session,
    user: User,
    *,
    name: str,
    access: str,
    expires_at: datetime | None,
    now: datetime,
) -> NewToken:
    """Make a token; the caller shows ``secret`` once and commits."""
    name = check_length(name, field="name", label="Name", max_len=80, required=True)
    scopes = scopes_for(access)
    if expires_at is not None and not now < expires_at <= now + MAX_LIFETIME:
        raise ValidationError("A token expires within a year from now.", field="expires")
    active = [t for t in list_for(session, user.id) if state(t, now) == TokenState.active]
    if len(active) >= MAX_ACTIVE:
        raise ValidationError(
            f"You have {MAX_ACTIVE} active tokens; revoke one you no longer use.", field="name"
        )
    if any(t.name == name for t in active):
        raise Conflict("You already have an active token with that name.", field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:SHOWN_CHARS],
        scopes=scopes,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    logger.info("api token created", extra={"user_id": user.id, "token_id": token.id})
    return NewToken(token, secret)


def list_for(session: Session, user_id: int) -> list[ApiToken]:
    """The user's tokens, newest first, revoked ones included (they show as revoked)."""
    return list(
        session.exec(
            select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
        )
    )


def revoke(session: Session, user_id: int, token_id: int, *, now: datetime) -> ApiToken:
    """Revoke one of the user's tokens; revoking twice is harmless."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise NotFound("There is no such token.")
    if token.revoked_at is None:
        token.revoked_at = now
        session.add(token)
        session.flush()
        logger.info("api token revoked", extra={"user_id": user_id, "token_id": token_id})
    return token


def authenticate(session: Session, secret: str, *, now: datetime) -> tuple[ApiToken, User]:
    """Find the token and its user, or raise InvalidToken saying what is wrong."""
    if not secret or len(secret) > MAX_TOKEN_CHARS:
        raise InvalidToken("That token is not valid.")
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(secret))).first()
    if token is None:
        raise InvalidToken("That token is not valid.")
    current = state(token, now)
    if current == TokenState.revoked:
        raise InvalidToken("That token was revoked.")
    if current == TokenState.expired:
        raise InvalidToken("That token has expired; create a new one in your settings.")
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise InvalidToken("The account of that token is suspended.")
    return token, user


def touch(session: Session, token: ApiToken, *, now: datetime) -> bool:
    """Record a use; True when the row changed and needs committing."""
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return False
    token.last_used_at = now
    session.add(token)
    session.flush()
    return True
