"""A person with data in every area, and bystanders whose data must survive their deletion."""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import text
from sqlmodel import Session, SQLModel, select

from portfolio.auth import erasure, tokens
from portfolio.models import (
    AdminLogEntry,
    CalendarFeed,
    Comment,
    CommentReport,
    Delivery,
    FeedbackRequest,
    MemberStatus,
    MentorAssignment,
    Notification,
    NotificationPreference,
    Project,
    ProjectMember,
    ProjectSlug,
    Role,
    TrackingCredential,
    Update,
    User,
    Visibility,
)
from portfolio.projects import images


@dataclass
class World:
    app: Flask
    session: Session
    bob: User  # the person who deletes their account
    carol: User  # bob's teammate (accepted) on his team project
    dave: User  # owns a public project bob is a member of
    eve: User  # a bystander with her own project
    ada: User  # an admin
    solo: Project  # bob's own public project (deleted with him)
    team: Project  # bob's team project with carol (handed over to her)
    pending_team: Project  # bob's project carol was only invited to (deleted)
    daves: Project  # dave's project bob is on
    eves: Project
    kept_comment: Comment  # bob's comment on dave's project that eve answered
    solo_image: str  # file name of the image in bob's solo project


def _png() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (10, 10), (1, 2, 3)).save(out, format="PNG")
    out.seek(0)
    return out


def _public(session: Session, project: Project) -> Project:
    project = session.get(Project, project.id)
    project.visibility = Visibility.public
    session.add(project)
    session.commit()
    return project


@pytest.fixture()
def world(app, session, make_user, make_project, make_run) -> World:
    bob = make_user("bob")
    carol, dave, eve = make_user("carol"), make_user("dave"), make_user("eve")
    ada = make_user("ada", role=Role.admin)
    mira = make_user("mira", role=Role.mentor)
    now = datetime.now(UTC)
    solo = _public(session, make_project(bob, title="Solo work"))
    team = make_project(bob, title="Team work", team=["carol"], allow_second=True)
    pending_team = make_project(bob, title="Pending team", team=["carol"], allow_second=True)
    daves = _public(session, make_project(dave, title="Dave work", team=["bob"]))
    eves = _public(session, make_project(eve, title="Eve work"))
    for project, user in ((team, carol), (daves, bob)):
        row = session.exec(
            select(ProjectMember).where(
                ProjectMember.project_id == project.id, ProjectMember.user_id == user.id
            )
        ).one()
        row.status = MemberStatus.accepted
        session.add(row)
    session.commit()
    # Runs (snapshots, metric series) in bob's projects and in dave's and eve's.
    for project in (solo, team, daves, eves):
        make_run(
            project,
            name=f"run-{project.slug}",
            summary={"acc": 0.5},
            config={},
            series={"acc": [(0, 0.1), (1, 0.5)]},
        )
    with app.app_context():
        solo_image = images.save_image(
            session, session.get(Project, solo.id), uploader=bob, stream=_png(), alt="Solo"
        ).filename
        images.save_image(
            session, session.get(Project, daves.id), uploader=bob, stream=_png(), alt="On Dave's"
        )
        images.save_image(
            session, session.get(Project, eves.id), uploader=eve, stream=_png(), alt="Eve's"
        )
        tokens.create(session, bob, name="bob", access="write", expires_at=None, now=now)
        tokens.create(session, eve, name="eve", access="write", expires_at=None, now=now)
        session.commit()
    # Updates, feedback requests and comments, in every direction.
    bob_update = Update(project_id=daves.id, author_id=bob.id, body_md="Bob's update")
    solo_update = Update(project_id=solo.id, author_id=bob.id, body_md="Solo update")
    dave_update = Update(project_id=daves.id, author_id=dave.id, body_md="Dave's update")
    session.add_all([bob_update, solo_update, dave_update])
    session.flush()
    session.add_all(
        [
            FeedbackRequest(update_id=bob_update.id, learner_id=bob.id),
            FeedbackRequest(
                update_id=dave_update.id, learner_id=dave.id, answered_by_id=bob.id, answered_at=now
            ),
        ]
    )
    kept = Comment(project_id=daves.id, author_id=bob.id, body_md="Bob's secret opinion")
    lonely = Comment(project_id=eves.id, author_id=bob.id, body_md="Bob's lonely comment")
    daves_comment = Comment(project_id=daves.id, author_id=dave.id, body_md="Dave asks")
    eves_comment = Comment(
        project_id=daves.id,
        author_id=eve.id,
        body_md="Eve rude",
        hidden_at=now,
        hidden_by_id=bob.id,
    )
    on_solo = Comment(project_id=solo.id, author_id=eve.id, body_md="Eve on solo")
    session.add_all([kept, lonely, daves_comment, eves_comment, on_solo])
    session.flush()
    eves_reply = Comment(
        project_id=daves.id, parent_id=kept.id, author_id=eve.id, body_md="Eve answers Bob"
    )
    bobs_reply = Comment(
        project_id=daves.id, parent_id=daves_comment.id, author_id=bob.id, body_md="Bob answers"
    )
    session.add_all([eves_reply, bobs_reply])
    session.flush()
    session.add_all(
        [
            CommentReport(comment_id=daves_comment.id, reporter_id=bob.id, reason="by bob"),
            CommentReport(comment_id=kept.id, reporter_id=eve.id, reason="about bob"),
            CommentReport(comment_id=on_solo.id, reporter_id=dave.id, reason="on solo"),
        ]
    )
    # Notifications and emails: bob's own, and dave's about bob's comment.
    mine = Notification(user_id=bob.id, kind="comment", title="For Bob", body="x")
    about = Notification(
        user_id=dave.id,
        kind="comment",
        title="New comment by Bob",
        body="Bob's secret opinion",
        payload={"project_id": daves.id, "comment_id": kept.id},
    )
    eves_own = Notification(user_id=eve.id, kind="comment", title="For Eve", body="kept")
    session.add_all([mine, about, eves_own])
    session.flush()
    for n, user in ((mine, bob), (about, dave), (eves_own, eve)):
        session.add(
            Delivery(
                notification_id=n.id,
                user_id=user.id,
                to_address=user.email,
                subject=n.title,
                text_body=n.body,
            )
        )
    # Settings, seasons, mentoring, and columns that merely mention bob.
    session.add_all(
        [
            TrackingCredential(
                user_id=bob.id, base_url="https://api.wandb.ai", secret_encrypted=b"x", last4="abcd"
            ),
            CalendarFeed(user_id=bob.id, token=secrets.token_urlsafe(16)),
            NotificationPreference(user_id=bob.id, category="comments", mode="in_app"),
            MentorAssignment(mentor_id=mira.id, learner_id=bob.id, season_id=solo.season_id),
            MentorAssignment(mentor_id=bob.id, learner_id=eve.id, season_id=solo.season_id),
            ProjectSlug(owner_id=bob.id, project_id=solo.id, slug="old-solo"),
            AdminLogEntry(actor_id=bob.id, action="account.delete", subject="@x", reason="r"),
        ]
    )
    session.execute(
        text("UPDATE project_members SET invited_by_id = :bob WHERE project_id = :p"),
        {"bob": bob.id, "p": daves.id},
    )
    session.execute(
        text("UPDATE run_links SET created_by_id = :bob WHERE project_id = :p"),
        {"bob": bob.id, "p": daves.id},
    )
    session.commit()
    # Detached, the objects below keep their values after the rows are deleted.
    session.expunge_all()
    return World(
        app,
        session,
        bob,
        carol,
        dave,
        eve,
        ada,
        solo,
        team,
        pending_team,
        daves,
        eves,
        kept,
        solo_image,
    )


def rows_holding(session: Session, user_id: int) -> dict[str, int]:
    """For every column that references users.id: how many rows hold this id."""
    session.expire_all()
    found: dict[str, int] = {}
    for table, name, _ in erasure.user_columns():
        count = session.execute(
            text(f"SELECT COUNT(*) FROM {table.name} WHERE {name} = :uid"), {"uid": user_id}
        ).scalar_one()
        if count:
            found[f"{table.name}.{name}"] = count
    return found


def all_rows(session: Session) -> dict[str, list[tuple]]:
    """Every row of every table, to prove a refused deletion changed nothing."""
    session.expire_all()
    return {
        t.name: sorted((tuple(str(v) for v in r) for r in session.execute(t.select())), key=repr)
        for t in SQLModel.metadata.sorted_tables
    }


def backdate_reservations(session: Session, days: int) -> None:
    session.execute(
        text("UPDATE handle_reservations SET reserved_until = :t"),
        {"t": datetime.now(UTC) - timedelta(days=days)},
    )
    session.commit()
