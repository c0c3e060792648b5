"""GET /me: whose token this is, so a script can check its setup first."""

from __future__ import annotations

from ...auth.tokens import Scope
from .. import auth, schemas
from ..routing import operation


@operation(
    "GET", "/me", summary="The signed-in user", tag="me", scope=Scope.read, response=schemas.Me
)
def me() -> schemas.Me:
    """The account the token (or browser session) belongs to, and the token's scopes."""
    who = auth.principal()
    assert who is not None
    user, token = who.user, who.token
    return schemas.Me(
        id=user.id,
        handle=user.handle,
        display_name=user.display_name,
        email=user.email,
        timezone=user.timezone,
        role=str(user.role),
        bio=user.bio,
        created_at=user.created_at,
        auth="token" if token is not None else "session",
        token=None
        if token is None
        else schemas.TokenInfo(
            name=token.name, prefix=token.prefix, scopes=token.scopes, expires_at=token.expires_at
        ),
    )
