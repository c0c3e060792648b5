"""A small world for discussion tests: a learner's public project, her mentor,
a peer in the same season, a stranger outside it, another mentor and an admin.

Everyone but `newbie` is backdated a month, so the new-account caps only
apply where a test means them to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from portfolio.models import (
    Comment,
    MentorAssignment,
    Notification,
    Project,
    Role,
    Season,
    User,
    Visibility,
)
from portfolio.seasons import service as seasons
from tests.conftest import csrf_token, login


@pytest.fixture(autouse=True)
def generous_rate_limit(app: Flask) -> None:
    """Tests post quickly; the rate-limit test lowers this again."""
    app.config["DISCUSSION_RATE_LIMIT"] = "1000 per minute"


@dataclass
class World:
    app: Flask
    session: Session
    season: Season
    project: Project
    maya: User  # the learner who owns the project
    mira: User  # maya's mentor this season
    pete: User  # a peer enrolled in the same season
    sam: User  # a signed-in stranger, not in the season
    otto: User  # a mentor, not maya's
    ada: User  # an admin

    @property
    def url(self) -> str:
        return f"/u/maya/{self.project.slug}"

    def client(self, user: User | None = None) -> FlaskClient:
        """A client of its own, logged in as `user` (anonymous when None)."""
        client = self.app.test_client()
        if user is not None:
            response = login(client, user)
            assert response.status_code == 302, response.get_data(as_text=True)
        return client

    def refresh(self, obj):
        self.session.expire_all()
        return self.session.get(type(obj), obj.id)

    def comments(self) -> list[Comment]:
        self.session.expire_all()
        return list(self.session.exec(select(Comment).order_by(Comment.id)).all())

    def notifications(self, user: User) -> list[Notification]:
        self.session.expire_all()
        return list(
            self.session.exec(
                select(Notification)
                .where(Notification.user_id == user.id)
                .order_by(Notification.id)
            ).all()
        )

    def set_visibility(self, visibility: Visibility) -> None:
        project = self.refresh(self.project)
        project.visibility = visibility
        project.version += 1
        self.session.add(project)
        self.session.commit()


def backdate(session: Session, user: User, days: int = 30) -> User:
    user = session.get(User, user.id)
    user.created_at = datetime.now(UTC) - timedelta(days=days)
    session.add(user)
    session.commit()
    return user


@pytest.fixture()
def world(app, session, make_user, make_project) -> World:
    maya = make_user("maya")
    project = make_project(maya, title="Digit classifier")
    project = session.get(Project, project.id)
    project.visibility = Visibility.public
    session.add(project)
    session.commit()
    season = session.get(Season, project.season_id)
    users = {
        "mira": make_user("mira", role=Role.mentor),
        "pete": make_user("pete"),
        "sam": make_user("sam"),
        "otto": make_user("otto", role=Role.mentor),
        "ada": make_user("ada", role=Role.admin),
    }
    seasons.enroll(session, session.get(User, users["pete"].id), season)
    session.add(
        MentorAssignment(mentor_id=users["mira"].id, learner_id=maya.id, season_id=season.id)
    )
    session.commit()
    aged = {name: backdate(session, user) for name, user in users.items()}
    return World(app, session, season, project, backdate(session, maya), **aged)


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def post(client: FlaskClient, path: str, data: dict | None = None, *, csrf: bool = True):
    """POST a form the way a browser would, CSRF token included (unless told not to)."""
    data = dict(data or {})
    if csrf:
        data.setdefault("csrf_token", _token(client))
    return client.post(path, data=data)


def _token(client: FlaskClient) -> str:
    """A CSRF token for this client's session: from a page with a form on it."""
    page = client.get("/login")
    if page.status_code == 302:  # signed in: the profile settings have a form
        return csrf_token(client, "/settings/profile")
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match
    return match.group(1)


def comment(world: World, client: FlaskClient, body: str, **fields):
    """Post a comment on the world's project; returns the response."""
    return post(client, f"{world.url}/comments", {"body": body, **fields})


def last_comment(world: World) -> Comment:
    return world.comments()[-1]
