"""The public profile's extras: avatar, links and a "what I'm looking for" line.

The avatar is an uploaded image under the same rules as write-up figures
(projects.images: checked by content, re-encoded so metadata and anything
that is not pixels is dropped, SVG refused), cut to a square and scaled down,
and kept in the storage backend under ``avatars/<name>`` so every web host
serves it. Links are shown on a public page, so only http(s) addresses with a
host are accepted, and the page shows each one's host next to its label.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urlsplit

from sqlmodel import Session

from ..models import User
from ..projects import images
from ..storage import StoredObject, get_storage
from . import rules

AVATAR_SIDE = 256  # pixels; shown at up to 96 CSS px, so sharp on 2x screens
LOOKING_FOR_MAX = 140

# (column, label, example shown in the error message)
LINKS = (
    ("github_url", "GitHub", "https://github.com/you"),
    ("linkedin_url", "LinkedIn", "https://www.linkedin.com/in/you"),
    ("website_url", "Website", "https://you.example.com"),
)


@dataclass(frozen=True)
class ProfileLink:
    """One link as the profile shows it: its label, address and host."""

    label: str
    url: str
    host: str


def avatar_key(name: str) -> str:
    """Name the stored object that holds an avatar's bytes."""
    return f"avatars/{name}"


def link_host(url: str) -> str:
    """The host a link goes to, as a visitor should read it ("www." dropped)."""
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def profile_links(user: User) -> list[ProfileLink]:
    """The user's links that are set, in a fixed order."""
    return [
        ProfileLink(label, getattr(user, column), link_host(getattr(user, column)))
        for column, label, _ in LINKS
        if getattr(user, column)
    ]


def update_extras(
    session: Session,
    user: User,
    *,
    github_url: str,
    linkedin_url: str,
    website_url: str,
    looking_for: str,
) -> User:
    """Set the links and the "looking for" line; every value is checked before any is set."""
    given = {"github_url": github_url, "linkedin_url": linkedin_url, "website_url": website_url}
    checked = {
        column: rules.check_http_url(
            given[column], field=column, label=f"The {label} link", example=example
        )
        for column, label, example in LINKS
    }
    line = rules.check_length(
        " ".join((looking_for or "").split()),  # one line: newlines and tabs become spaces
        field="looking_for",
        label="What you are looking for",
        max_len=LOOKING_FOR_MAX,
        required=False,
    )
    for column, value in checked.items():
        setattr(user, column, value)
    user.looking_for = line
    session.add(user)
    session.flush()
    return user


def set_avatar(session: Session, user: User, *, stream: BinaryIO) -> str:
    """Store a new avatar and drop the old one; nothing changes unless every check passes."""
    encoded, fmt, _, _ = images.read_upload(stream, square=AVATAR_SIDE)
    ext, content_type = images.FORMATS[fmt]
    name = f"{secrets.token_urlsafe(12)}.{ext}"
    old = user.avatar
    # The object first, then the row: a row never points at a missing object.
    get_storage().put(avatar_key(name), encoded, content_type, session=session)
    with images.discard_on_failure(session, name, key=avatar_key(name)):
        user.avatar = name
        session.add(user)
        session.flush()
        if old:
            get_storage().delete(avatar_key(old), session=session)
    return name


def remove_avatar(session: Session, user: User) -> None:
    """Delete the avatar and its stored bytes (an unreachable store refuses the delete)."""
    if user.avatar:
        get_storage().delete(avatar_key(user.avatar), session=session)
        user.avatar = None
        session.add(user)
        session.flush()


def read_avatar(session: Session, user: User, name: str) -> StoredObject | None:
    """The user's current avatar under that name, or None (an old or unknown name)."""
    if not user.avatar or name != user.avatar:
        return None
    return get_storage().get(avatar_key(name), session=session)
