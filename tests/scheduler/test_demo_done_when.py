"""The reminders issue's "done when", on the demo data and the embedded default.

Moving a demo milestone to 10 minutes from now gives, within one sweep, one
in-app notification per member and one email, which (no SMTP configured)
shows up in the log.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import col, select

from portfolio.models import Milestone, Notification, Project, Season, User, utcnow
from portfolio.seasons import milestones
from portfolio.timeutil import to_local
from scheduler import jobs


def test_moving_a_demo_milestone_to_ten_minutes_from_now(app, runner, session, caplog) -> None:
    assert not app.config.get("SMTP_HOST")
    loaded = runner.invoke(args=["demo"])
    assert loaded.exit_code == 0, loaded.output
    now = utcnow()
    maya = session.exec(select(User).where(User.handle == "maya-okafor")).one()
    project, season = session.exec(
        select(Project, Season)
        .join(Season, Season.id == Project.season_id)
        .where(Project.owner_id == maya.id, Season.starts_on <= now.date())
        .where(Season.ends_on >= now.date())
    ).one()
    milestone = session.exec(
        select(Milestone)
        .where(Milestone.project_id == project.id, col(Milestone.done_at).is_(None))
        .order_by(Milestone.due_at.desc())
    ).first()
    assert milestone is not None and milestone.due_at > now + timedelta(days=8)
    soon = to_local(now + timedelta(minutes=10), maya.timezone)
    milestones.update(
        session,
        project,
        season,
        milestone,
        title=milestone.title,
        day=soon.date(),
        at=soon.time().replace(second=0, microsecond=0),
        tz_name=maya.timezone,
        now=now,
    )
    session.commit()

    jobs.queue_reminders(app, now=now)
    mine = [
        n
        for n in session.exec(select(Notification).where(Notification.user_id == maya.id))
        if n.payload.get("milestone_id") == milestone.id
    ]
    assert [n.kind for n in mine] == ["reminder_1d"]
    with caplog.at_level(logging.INFO, logger="portfolio.notify.mail"):
        outcomes = jobs.deliver_emails(app, now=now)
    assert outcomes["sent"] >= 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"To: {maya.email}" in logged
    subjects = [line for line in logged.splitlines() if line.startswith("Subject: ")]
    about_it = [line for line in subjects if f"“{milestone.title}”" in line]
    assert len(about_it) == 1, subjects  # one email, once
    assert about_it[0].endswith(("is due in 10 minutes", "is due in 9 minutes"))
