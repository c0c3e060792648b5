"""Load the demo portfolio in content/demo, idempotently.

Everything goes through the services a learner's actions use: accounts,
projects and milestones, the offline-run import (runs trained by
content/demo/train_runs.py under WANDB_MODE=offline), figures, updates and
comments. A project that already exists is left alone, so running the
command twice changes nothing.
"""

from __future__ import annotations

import io
import json
import math
import re
import runpy
import tomllib
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlmodel import Session, select

from .auth import service as accounts
from .auth.passwords import hash_password, verify_password
from .discovery import tags
from .discussion import service as discussion
from .discussion.rules import Limits
from .discussion.updates import post_update
from .errors import Conflict
from .models import MetricGoal, Project, Role, User, Visibility, utcnow
from .projects import images
from .projects import service as projects
from .seasons import demo_day, mentors, milestones, recaps
from .seasons import service as seasons
from .tracking.imports import import_offline


def _demo_dir() -> Path:
    return Path(current_app.config["CONTENT_DIR"]) / "demo"


def _load(name: str) -> dict[str, Any]:
    return tomllib.loads((_demo_dir() / name).read_text(encoding="utf-8"))


def load_demo(session: Session) -> str:
    """Create or refresh the demo; running it twice changes nothing more."""
    now = utcnow()
    people = _load_people(session, now)
    data = _load("projects.toml")
    created = _load_projects(session, data, now)
    _load_mentoring(session, data, now)
    _load_discussion(session, data, created, now)
    session.flush()
    return f"Demo loaded: {people} people and {len(created)} projects created."


def _load_people(session: Session, now: datetime) -> int:
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
                # Their addresses are made up: nobody could follow a link sent to them.
                verified_at=now,
            )
            # Demo people have been around for a while (no new-account limits).
            user.created_at = now - timedelta(days=400)
            created += 1
        elif not verify_password(user.password_hash, data["password"]):
            user.password_hash = hash_password(data["password"])
        user.display_name, user.bio = person["display_name"], person["bio"]
        user.role = Role(person["role"])
        session.add(user)
    session.flush()
    return created


def _season_at(session: Session, offset: int, today):
    year, quarter = seasons.quarter_of(today)
    for _ in range(abs(offset)):
        if offset < 0:
            year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
        else:
            year, quarter = seasons.next_quarter(year, quarter)
    return seasons.ensure_quarter(session, year, quarter)


def demo_runs() -> dict[str, list[str]]:
    """Offline run folders per group, trained once into the instance folder."""
    out = Path(current_app.instance_path) / "demo-runs"
    index = out / "runs.json"
    if index.exists():
        runs = json.loads(index.read_text())
        if all(Path(p).exists() for group in runs.values() for p in group):
            return runs
    script = runpy.run_path(str(_demo_dir() / "train_runs.py"))
    return script["main"](out)


def _load_projects(session: Session, data: dict[str, Any], now: datetime) -> dict[str, Project]:
    created: dict[str, Project] = {}
    runs = None
    for spec in data["projects"]:
        owner = accounts.get_user_by_handle(session, spec["owner"])
        assert owner is not None, spec["owner"]
        season = _season_at(session, spec["season"], now.date())
        exists = session.exec(
            select(Project).where(Project.owner_id == owner.id, Project.title == spec["title"])
        ).first()
        if exists is not None:
            continue
        started = min(now, datetime.combine(season.starts_on, datetime.min.time(), UTC))
        started += timedelta(days=2)
        project = projects.create(
            session,
            owner=owner,
            season=season,
            fields=projects.ProjectFields(
                spec["title"], spec["summary"], spec["problem"].strip(), spec.get("repo_url", "")
            ),
            team_handles=[],
            allow_second=True,
            now=min(now, started),
        )
        # Set before milestones are done: each one freezes the headline figures then.
        project.headline_metric = spec.get("headline_metric", "")
        project.headline_goal = MetricGoal(spec.get("headline_goal", "max"))
        run_dirs: list[str] = []
        if spec.get("runs"):
            runs = runs or demo_runs()
            run_dirs = runs[spec["runs"]]
        plan = milestones.list_for(session, project.id)
        done = spec.get("done", [])
        imported = 0
        for count, position in enumerate(done, start=1):
            # The runs arrive over the milestones, so the progress timeline moves.
            upto = math.ceil(len(run_dirs) * count / len(done))
            for run_dir in run_dirs[imported:upto]:
                import_offline(session, project, None, run_dir, now=now)
            imported = upto
            done_at = min(now, plan[position].due_at - timedelta(hours=5))
            milestones.complete(session, project, plan[position], note="", now=done_at)
        for run_dir in run_dirs[imported:]:
            import_offline(session, project, None, run_dir, now=now)
        body = spec.get("body", "").strip()
        for name in sorted(set(_image_names(body))):
            figure = images.save_image(
                session,
                project,
                uploader=owner,
                stream=io.BytesIO((_demo_dir() / name).read_bytes()),
                alt=name.rsplit(".", 1)[0].replace("-", " "),
            )
            url = f"/u/{owner.handle}/{project.slug}/images/{figure.filename}"
            body = body.replace(f"{{image:{name}}}", url)
        project.body_md = body
        project.visibility = Visibility(spec["visibility"])
        tags.set_tags(session, project, tags.parse_labels(spec.get("tags", [])))
        project.comment_policy = spec.get("comment_policy", project.comment_policy)
        project.charts = [{"runs": [], "title": "", **chart} for chart in spec.get("charts", [])]
        _load_showcase(session, spec, project, season, owner, now)
        project.updated_at = project.last_activity_at = min(now, started + timedelta(days=30))
        session.add(project)
        session.flush()
        if spec.get("recap"):  # a past season's recap, written by the learner, published
            recaps.publish(session, project, season, owner, spec["recap"].strip(), now=now)
        created[spec["title"]] = project
    return created


def _load_showcase(
    session: Session, spec: dict[str, Any], project: Project, season, owner: User, now: datetime
) -> None:
    """A past project's demo-day highlight and pin, through the services learners and
    admins use, so a past demo season shows a demo-day page right away."""
    if spec.get("highlight"):
        demo_day.set_feature(
            session, project, owner, featured=True, highlight=spec["highlight"], now=now
        )
    if spec.get("pinned"):
        admin = session.exec(select(User).where(User.role == Role.admin)).first()
        if admin is not None:
            demo_day.pin(session, season, project.id, admin, now)


def _image_names(body: str) -> list[str]:
    return re.findall(r"\{image:([\w.-]+)\}", body)


def _load_mentoring(session: Session, data: dict[str, Any], now: datetime) -> None:
    """Assign the demo's mentors through the admin's own rule; a rerun changes nothing."""
    season = seasons.ensure_current_and_next(session, now.date())[0]
    for group in data.get("mentoring", []):
        for handle in group["learners"]:
            with suppress(Conflict):  # assigned by an earlier load
                mentors.assign(
                    session, mentor_handle=group["mentor"], learner_handle=handle, season=season
                )
    session.flush()


def _load_discussion(
    session: Session, data: dict[str, Any], created: dict[str, Project], now: datetime
) -> None:
    """Updates and comments, only for projects created by this run (idempotent)."""
    updates: dict[str, list[int]] = {}
    comments: list[int] = []
    limits = Limits.from_config()
    for spec in data.get("updates", []):
        project = created.get(spec["project"])
        if project is None:
            continue
        when = now - timedelta(days=spec["days_ago"])
        update = post_update(
            session,
            project=project,
            author=_user(session, spec["author"]),
            body=spec["body"].strip(),
            ask_feedback=spec.get("feedback", False),
            now=when,
        )
        updates.setdefault(spec["project"], []).append(update.id)
    for spec in data.get("comments", []):
        project = created.get(spec["project"])
        if project is None:
            continue
        update_id = updates[spec["project"]][spec["update"] - 1] if "update" in spec else None
        parent_id = comments[spec["reply_to"] - 1] if "reply_to" in spec else None
        posted = discussion.post_comment(
            session,
            project=project,
            author=_user(session, spec["author"]),
            body=spec["body"].strip(),
            update_id=update_id,
            parent_id=parent_id,
            now=now - timedelta(days=spec["days_ago"]),
            limits=limits,
        )
        comments.append(posted.comment.id)


def _user(session: Session, handle: str) -> User:
    user = accounts.get_user_by_handle(session, handle)
    assert user is not None, handle
    return user
