"""Load the demo content in content/demo, idempotently."""

from __future__ import annotations

import tomllib
from pathlib import Path

from flask import current_app
from sqlmodel import Session

from .auth import service as accounts
from .auth.passwords import hash_password, verify_password
from .models import Role


def _demo_dir() -> Path:
    return Path(current_app.config["CONTENT_DIR"]) / "demo"


def load_demo(session: Session) -> str:
    """Create or refresh the demo people; running it twice changes nothing more."""
    data = tomllib.loads((_demo_dir() / "people.toml").read_text(encoding="utf-8"))
    created = 0
    for person in data["people"]:
        user = accounts.get_user_by_handle(session, person["handle"])
        if user is None:
            user = accounts.register(
                session,
                email=person["email"],
                handle=person["handle"],
                display_name=person["display_name"],
                password=data["password"],
                timezone=person["timezone"],
                role=Role(person["role"]),
            )
            created += 1
        elif not verify_password(user.password_hash, data["password"]):
            user.password_hash = hash_password(data["password"])
        user.display_name = person["display_name"]
        user.bio = person["bio"]
        user.role = Role(person["role"])
        session.add(user)
    session.flush()
    return f"Demo loaded: {created} people created, {len(data['people']) - created} refreshed."
