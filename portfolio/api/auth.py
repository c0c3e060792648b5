"""Who is calling the API: a personal access token, the session cookie, or nobody.

Rules, in order:
- Any ``Authorization`` header means token authentication, and the session
  cookie is then ignored entirely. A header that is not a valid, unexpired,
  unrevoked Bearer token is a 401: a script with a bad token should fail
  loudly, not quietly fall back to anonymous access.
- Without that header, a signed-in browser session counts, with both scopes;
  its writes must carry the CSRF token (X-CSRFToken header), because a browser
  sends the cookie on cross-site requests too. Bearer requests are exempt
  from CSRF: a browser never attaches a token on its own.
- Otherwise the caller is anonymous, which only the public operations allow.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from ..auth import tokens
from ..auth.tokens import InvalidToken, Scope
from ..db import get_session
from ..extensions import csrf
from ..models import ApiToken, User, utcnow
from .errors import REALM, Problem

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_UNSET = object()


@dataclass(frozen=True)
class Principal:
    """The caller: a user, the token they used (None: session cookie), its scopes."""

    user: User
    token: ApiToken | None
    scopes: frozenset[str]

    @property
    def via(self) -> str:
        return "token" if self.token is not None else "session"


def bearer_secret() -> str | None:
    """The token from ``Authorization: Bearer …``; None when there is no header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise InvalidToken("Send the token as: Authorization: Bearer <token>.")
    return secret.strip()


def _resolve() -> Principal | None:
    secret = bearer_secret()
    session = get_session()
    if secret is not None:
        now = utcnow()
        token, user = tokens.authenticate(session, secret, now=now)
        if tokens.touch(session, token, now=now):
            # Bookkeeping that must survive a failing request, committed on its own.
            session.commit()
        return Principal(user, token, frozenset(token.scopes))
    if current_user.is_authenticated and current_user.is_active:
        return Principal(
            current_user._get_current_object(), None, frozenset(s.value for s in Scope)
        )
    return None


def principal() -> Principal | None:
    """The caller of this request, worked out once; raises InvalidToken for a bad token."""
    cached = g.get("api_principal", _UNSET)
    if cached is _UNSET:
        try:
            cached = _resolve()
        except InvalidToken as err:
            cached = err
        g.api_principal = cached
    if isinstance(cached, InvalidToken):
        raise cached
    return cached  # type: ignore[return-value]


def require(scope: Scope | None) -> Principal | None:
    """Check the caller may use an operation needing ``scope`` (None: public)."""
    who = principal()
    if scope is None:
        return who
    if who is None:
        raise Problem(401)
    if scope.value not in who.scopes:
        raise Problem(
            403,
            f"This token has no {scope.value} scope; create a token with "
            f"{'read and write' if scope == Scope.write else 'read'} access.",
            headers={
                "WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{scope.value}"'
            },
        )
    return who


def before_request() -> None:
    """Authenticate, then demand the CSRF token from cookie-authenticated writes."""
    principal()
    if (
        request.method not in SAFE_METHODS
        and "Authorization" not in request.headers
        and current_user.is_authenticated
    ):
        csrf.protect()


def rate_limit_key() -> str:
    """Count a signed-in caller's requests together, wherever they come from.

    Runs before the API's own hooks, so it resolves the caller itself (cached
    on ``g``); unknown tokens count against the client address, so sending
    random tokens does not buy a fresh allowance.
    """
    try:
        who = principal()
    except InvalidToken:
        who = None
    if who is not None:
        return f"api-user:{who.user.id}"
    return f"api-addr:{get_remote_address()}"


def caller() -> User:
    """The user of an operation that required a scope (so someone is signed in)."""
    who = principal()
    assert who is not None
    return who.user
