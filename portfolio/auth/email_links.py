"""One-time links sent by email: password reset, address verification, email change.

A link's secret is made when its email is sent, not when it is asked for: the
request writes an ``email_tokens`` row (holding the hash of a secret nobody
knows) and a pending Delivery with template "account_link"; the outbox calls
``render_link`` just before each attempt, which mints the secret, stores only
its SHA-256 and starts the link's lifetime. So the database never holds a
usable link, an SMTP outage delays the email without eating into the hour,
and a retry sends a fresh link that replaces the one before.

A newer request for the same purpose deletes the older rows, so an older
link stops working ("not valid"); a used link says so; an expired one says
so and the page offers a new one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from ..errors import DomainError
from ..models import Delivery, DeliveryStatus, EmailToken, Notification, TokenPurpose, User
from ..notify.service import EmailContent, render_email

LINK_TEMPLATE = "account_link"
LIFETIMES = {
    TokenPurpose.reset: timedelta(hours=1),
    TokenPurpose.verify: timedelta(days=7),
    TokenPurpose.email_change: timedelta(hours=24),
}
PATHS = {
    TokenPurpose.reset: "/password/reset/",
    TokenPurpose.verify: "/email/verify/",
    TokenPurpose.email_change: "/email/confirm/",
}
SUBJECTS = {
    TokenPurpose.reset: "Reset your Seasons password",
    TokenPurpose.verify: "Confirm your email address for Seasons",
    TokenPurpose.email_change: "Confirm your new email address for Seasons",
}
# token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
MAX_SECRET_CHARS = 100


class LinkError(DomainError):
    """A link that cannot be used; the message says why and what to do."""

    status = 400
    expired = False


class LinkExpired(LinkError):
    status = 410
    expired = True


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def issue(
    session: Session,
    user: User,
    purpose: TokenPurpose,
    *,
    now: datetime,
    to_address: str | None = None,
    new_email: str | None = None,
) -> EmailToken:
    """Replace the user's pending links of this purpose with a new one and queue its email."""
    revoke(session, user.id, purpose)
    token = EmailToken(
        user_id=user.id,
        purpose=purpose,
        # Nobody knows this secret: the real one is made when the email is sent.
        token_hash=hash_secret(secrets.token_urlsafe(32)),
        new_email=new_email,
        created_at=now,
        expires_at=now + LIFETIMES[purpose],
    )
    session.add(token)
    session.flush()
    session.add(
        Delivery(
            user_id=user.id,
            to_address=to_address or user.email,
            subject=SUBJECTS[purpose],
            text_body="",
            template=LINK_TEMPLATE,
            # Ids of deleted rows can come back (SQLite); the nonce keeps the key unique.
            dedupe_key=f"email-token:{token.id}:{secrets.token_hex(6)}",
            next_attempt_at=now,
            created_at=now,
        )
    )
    session.flush()
    return token


def render_link(
    session: Session, delivery: Delivery, notification: Notification | None, now: datetime
) -> EmailContent | str:
    """Mint the link's secret and write the email; or say why it is moot (then cancelled)."""
    token_id = ((delivery.dedupe_key or "").split(":") + ["", ""])[1]
    token = session.get(EmailToken, int(token_id)) if token_id.isdigit() else None
    if token is None:
        return "link replaced by a newer request"
    if token.used_at is not None:
        return "link already used"
    user = session.get(User, token.user_id)
    if user is None:
        return "account deleted"
    if user.id != delivery.user_id or delivery.to_address != (token.new_email or user.email):
        return "link no longer matches this email"
    purpose = TokenPurpose(token.purpose)
    secret = secrets.token_urlsafe(32)
    token.token_hash = hash_secret(secret)
    token.expires_at = now + LIFETIMES[purpose]
    session.add(token)
    session.flush()
    url = f"{current_app.config['BASE_URL']}{PATHS[purpose]}{secret}"
    return render_email(
        f"account_{purpose.value}",
        SUBJECTS[purpose],
        name=user.display_name,
        url=url,
        new_email=token.new_email,
        hours=int(LIFETIMES[purpose].total_seconds() // 3600),
    )


def find(
    session: Session,
    secret: str | None,
    purpose: TokenPurpose,
    *,
    viewer: User | None,
    now: datetime,
) -> tuple[EmailToken, User]:
    """The pending link for this secret and its user, or a LinkError saying what is wrong.

    Looked up by the hash of the secret (an index probe that reveals nothing
    about near misses) and compared again in constant time. A link of another
    purpose is as unknown as a tampered one. A signed-in person may not use
    another account's link.
    """
    secret = (secret or "").strip()
    invalid = LinkError(
        "This link is not valid. It may be incomplete (copy the whole link from the email) "
        "or replaced by a newer one: use the link in the most recent email."
    )
    if not secret or len(secret) > MAX_SECRET_CHARS:
        raise invalid
    digest = hash_secret(secret)
    token = session.exec(select(EmailToken).where(EmailToken.token_hash == digest)).first()
    if (
        token is None
        or not hmac.compare_digest(token.token_hash, digest)
        or token.purpose != purpose
    ):
        raise invalid
    user = session.get(User, token.user_id)
    if user is None:
        raise invalid
    if viewer is not None and viewer.id != user.id:
        raise LinkError(
            "This link belongs to another account. Log out first, then open the link again."
        )
    if token.used_at is not None:
        raise LinkError("This link was already used. Each link works once.")
    if token.expires_at <= now:
        raise LinkExpired("This link has expired.")
    return token, user


def mark_used(session: Session, token: EmailToken, *, now: datetime) -> None:
    """Spend the link and drop the user's other pending links of its purpose."""
    token.used_at = now
    session.add(token)
    session.flush()
    revoke(session, token.user_id, TokenPurpose(token.purpose))


def revoke(session: Session, user_id: int, purpose: TokenPurpose) -> None:
    """Make the user's pending links of this purpose unusable, and cancel their unsent emails.

    Cancelling matters beyond tidiness: a deleted row's id may be reused, and
    an email still queued for it must never carry a link to someone else's row.
    """
    ids = list(
        session.exec(
            select(EmailToken.id).where(
                col(EmailToken.user_id) == user_id,
                col(EmailToken.purpose) == purpose.value,
                col(EmailToken.used_at).is_(None),
            )
        )
    )
    if not ids:
        return
    session.execute(
        update(Delivery)
        .where(
            col(Delivery.user_id) == user_id,
            col(Delivery.template) == LINK_TEMPLATE,
            col(Delivery.status) == DeliveryStatus.pending.value,
            or_(*(col(Delivery.dedupe_key).startswith(f"email-token:{i}:") for i in ids)),
        )
        .values(status=DeliveryStatus.cancelled.value, last_error="link replaced or revoked")
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(EmailToken).where(col(EmailToken.id).in_(ids)))
    session.flush()


def queue_notice(
    session: Session,
    user: User,
    *,
    to_address: str,
    template: str,
    subject: str,
    now: datetime,
    **context: object,
) -> None:
    """Queue a plain account email (no link secret): rendered now, sent by the outbox."""
    content = render_email(template, subject, name=user.display_name, **context)
    session.add(
        Delivery(
            user_id=user.id,
            to_address=to_address,
            subject=content.subject,
            text_body=content.text,
            html_body=content.html,
            status=DeliveryStatus.pending,
            next_attempt_at=now,
            created_at=now,
        )
    )
    session.flush()
