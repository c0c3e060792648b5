"""Load the demo content in content/demo, idempotently."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlmodel import Session, select

from .auth import service as accounts
from .auth.passwords import hash_password, verify_password
from .models import MentorAssignment, Project, Role, Visibility, utcnow
from .projects import service as projects
from .seasons import milestones
from .seasons import service as seasons


def _demo_dir() -> Path:
    return Path(current_app.config["CONTENT_DIR"]) / "demo"


def _load(name: str) -> dict:
    return tomllib.loads((_demo_dir() / name).read_text(encoding="utf-8"))


def load_demo(session: Session) -> str:
    """Create or refresh the demo; running it twice changes nothing more."""
    people = _load_people(session)
    planned = _load_projects(session)
    return f"Demo loaded: {people} people and {planned} projects created."


def _load_people(session: Session) -> int:
    data = _load("people.toml")
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
    return created


def _load_projects(session: Session) -> int:
    data = _load("projects.toml")
    now = utcnow()
    season, _ = seasons.ensure_current_and_next(session, now.date())
    created = 0
    for spec in data["projects"]:
        owner = accounts.get_user_by_handle(session, spec["owner"])
        assert owner is not None, spec["owner"]
        exists = session.exec(
            select(Project).where(
                Project.owner_id == owner.id,
                Project.season_id == season.id,
                Project.title == spec["title"],
            )
        ).first()
        if exists is not None:
            continue
        project = projects.create(
            session,
            owner=owner,
            season=season,
            fields=projects.ProjectFields(
                spec["title"], spec["summary"], spec["problem"].strip(), spec.get("repo_url", "")
            ),
            team_handles=[],
            allow_second=True,
            now=now,
        )
        project.visibility = Visibility(spec["visibility"])
        plan = milestones.list_for(session, project.id)
        for position in spec.get("done", []):
            # Done on time: a few hours before it was due (or now, if not due yet).
            done_at = min(now, plan[position].due_at - timedelta(hours=5))
            milestones.complete(session, project, plan[position], note="", now=done_at)
        created += 1
    for group in data.get("mentoring", []):
        for learner in group["learners"]:
            mentor_user = accounts.get_user_by_handle(session, group["mentor"])
            learner_user = accounts.get_user_by_handle(session, learner)
            assert mentor_user is not None and learner_user is not None
            already = session.exec(
                select(MentorAssignment.id).where(
                    MentorAssignment.mentor_id == mentor_user.id,
                    MentorAssignment.learner_id == learner_user.id,
                    MentorAssignment.season_id == season.id,
                )
            ).first()
            if already is None:
                session.add(
                    MentorAssignment(
                        mentor_id=mentor_user.id, learner_id=learner_user.id, season_id=season.id
                    )
                )
    session.flush()
    return created
