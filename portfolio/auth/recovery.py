"""Password reset, email verification and email change: the flows behind the emailed links.

Views call these and commit; links and their emails come from email_links.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ..errors import Conflict, DomainError, Forbidden
from ..models import TokenPurpose, User
from . import email_links, rules
from .passwords import verify_password
from .service import ensure_unique, get_user_by_email, set_password

logger = logging.getLogger(__name__)


def request_reset(session: Session, email: str, *, now: datetime) -> None:
    """Email a reset link if the address has an account; the caller answers the same either way.

    A suspended account gets an email saying it is suspended instead of a
    link: only the mailbox's owner learns it, never the person at the form.
    """
    address = rules.normalize_email(email)
    user = get_user_by_email(session, address)
    if user is None:
        logger.info("password reset asked for an unknown address")
        return
    if not user.is_active:
        email_links.queue_notice(
            session,
            user,
            to_address=user.email,
            template="account_suspended",
            subject="Your Seasons password cannot be reset",
            now=now,
        )
        return
    email_links.issue(session, user, TokenPurpose.reset, now=now)
    logger.info("password reset link queued", extra={"user_id": user.id})


def check_reset_link(session: Session, secret: str, *, viewer: User | None, now: datetime) -> User:
    """The user a reset link is for, if it can still be used."""
    _, user = email_links.find(session, secret, TokenPurpose.reset, viewer=viewer, now=now)
    if not user.is_active:
        raise Forbidden("This account is suspended, so its password cannot be reset.")
    return user


def reset_password(
    session: Session, secret: str, new: str, *, viewer: User | None, now: datetime
) -> User:
    """Set a new password through a reset link; every session of the account ends."""
    token, user = email_links.find(session, secret, TokenPurpose.reset, viewer=viewer, now=now)
    if not user.is_active:
        raise Forbidden("This account is suspended, so its password cannot be reset.")
    email_links.mark_used(session, token, now=now)
    set_password(session, user, new, keep_session=None)
    # The link reached this mailbox, which confirms the address too.
    user.email_verified_at = user.email_verified_at or now
    session.add(user)
    session.flush()
    logger.info("password reset", extra={"user_id": user.id})
    return user


def send_verification(session: Session, user: User, *, now: datetime) -> None:
    """Email a link that confirms the user's address (replacing any earlier one)."""
    if user.email_verified_at is not None:
        raise DomainError("Your email address is already confirmed.")
    email_links.issue(session, user, TokenPurpose.verify, now=now)


def confirm_address(session: Session, secret: str, *, viewer: User | None, now: datetime) -> User:
    """Mark the address confirmed through a verification link."""
    token, user = email_links.find(session, secret, TokenPurpose.verify, viewer=viewer, now=now)
    email_links.mark_used(session, token, now=now)
    user.email_verified_at = user.email_verified_at or now
    session.add(user)
    session.flush()
    return user


def request_email_change(
    session: Session, user: User, *, password: str, new_email: str, now: datetime
) -> str:
    """Send a confirmation link to the new address and a notice to the old; returns the new one.

    Nothing changes until the new address confirms.
    """
    if not verify_password(user.password_hash, password or ""):
        raise rules.ValidationError("Your current password is not right.", field="password")
    new = _for_field(rules.normalize_email, new_email)
    if new == user.email:
        raise rules.ValidationError("That is already your address.", field="new_email")
    _for_field(ensure_unique, session, email=new, handle=None, exclude=user.id)
    email_links.issue(
        session, user, TokenPurpose.email_change, now=now, to_address=new, new_email=new
    )
    email_links.queue_notice(
        session,
        user,
        to_address=user.email,
        template="account_email_change_notice",
        subject="Your Seasons email address is being changed",
        now=now,
        masked=mask(new),
        password_url=f"{current_app.config['BASE_URL']}/settings/password",
    )
    return new


def confirm_email_change(
    session: Session, secret: str, *, viewer: User | None, now: datetime
) -> User:
    """Switch to the confirmed new address, unless another account took it meanwhile."""
    token, user = email_links.find(
        session, secret, TokenPurpose.email_change, viewer=viewer, now=now
    )
    new = token.new_email or ""
    taken = Conflict(
        f"{new} now belongs to another account, so your address was not changed. "
        "Choose another one in your settings."
    )
    other = get_user_by_email(session, new)
    if not new or (other is not None and other.id != user.id):
        raise taken
    user.email = new
    user.email_verified_at = now
    session.add(user)
    email_links.mark_used(session, token, now=now)
    email_links.revoke(session, user.id, TokenPurpose.verify)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # taken between the check and the write
        raise taken from exc
    logger.info("email changed", extra={"user_id": user.id})
    return user


def mask(address: str) -> str:
    """ "ada@example.com" → "a**@example.com": enough to recognise, not to harvest."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}{'*' * max(len(local) - 1, 2)}@{domain}"


def _for_field(func, *args, **kwargs):
    """Call a rule whose errors name the "email" field, reporting them on "new_email"."""
    try:
        return func(*args, **kwargs)
    except DomainError as err:
        err.field = "new_email" if err.field == "email" else err.field
        raise
