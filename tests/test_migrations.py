"""Migrations: one head, and upgrade-from-empty matches the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import portfolio.models  # noqa: F401
from portfolio.discovery.engine import include_name
from portfolio.migrate import alembic_config, downgrade, upgrade


def test_single_head(migrated_engine):
    script = ScriptDirectory.from_config(alembic_config(migrated_engine))
    assert len(script.get_heads()) == 1


def test_upgrade_from_empty_matches_models(fresh_engine):
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        # The search engines' own index objects (migration 0018) are no models.
        opts = {"compare_type": True, "include_name": include_name}
        ctx = MigrationContext.configure(conn, opts=opts)
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == []


def test_downgrade_to_base_and_up_again(fresh_engine):
    upgrade(fresh_engine)
    downgrade(fresh_engine, "base")
    with fresh_engine.connect() as conn:
        ctx = MigrationContext.configure(conn)
        assert ctx.get_current_revision() is None
    upgrade(fresh_engine)


def test_0006_keeps_the_first_of_duplicate_reports(fresh_engine):
    """Reports doubled by the old race are folded into the earliest before the constraint."""
    from sqlalchemy import text

    upgrade(fresh_engine, "0005")
    now = "2027-01-01 00:00:00"
    with fresh_engine.begin() as conn:
        for handle in ("ada", "bob"):
            conn.execute(
                text(
                    "INSERT INTO users (email, handle, display_name, password_hash, role, "
                    "timezone, bio, login_id, created_at) VALUES "
                    "(:e, :h, :h, 'x', 'learner', 'UTC', '', :h, :now)"
                ),
                {"e": f"{handle}@example.com", "h": handle, "now": now},
            )
        ada, bob = conn.execute(text("SELECT id FROM users ORDER BY id")).scalars().all()
        conn.execute(
            text(
                "INSERT INTO seasons (slug, title, kind, starts_on, ends_on, plan, created_at) "
                "VALUES ('s', 'S', 'quarter', '2027-01-01', '2027-03-31', '[]', :now)"
            ),
            {"now": now},
        )
        season = conn.execute(text("SELECT id FROM seasons")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO projects (season_id, owner_id, title, slug, summary, problem_md, "
                "body_md, visibility, repo_url, headline_metric, headline_goal, version, "
                "created_at, updated_at, last_activity_at) VALUES (:s, :o, 'P', 'p', '', '', "
                "'', 'public', '', '', 'max', 1, :now, :now, :now)"
            ),
            {"s": season, "o": ada, "now": now},
        )
        project = conn.execute(text("SELECT id FROM projects")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO comments (project_id, author_id, body_md, created_at) "
                "VALUES (:p, :a, 'spam', :now)"
            ),
            {"p": project, "a": ada, "now": now},
        )
        comment = conn.execute(text("SELECT id FROM comments")).scalar_one()
        for reason in ("first", "double click"):
            conn.execute(
                text(
                    "INSERT INTO comment_reports (comment_id, reporter_id, reason, created_at, "
                    "status) VALUES (:c, :r, :reason, :now, 'open')"
                ),
                {"c": comment, "r": bob, "reason": reason, "now": now},
            )
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        reasons = conn.execute(text("SELECT reason FROM comment_reports")).scalars().all()
    assert reasons == ["first"]


def test_0007_marks_existing_accounts_verified(fresh_engine):
    """Accounts from before verified email count as confirmed as of their creation."""
    from sqlalchemy import text

    upgrade(fresh_engine, "0006")
    with fresh_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (email, handle, display_name, password_hash, role, "
                "timezone, bio, login_id, created_at) VALUES "
                "('ada@example.com', 'ada', 'Ada', 'x', 'learner', 'UTC', '', 'l', "
                "'2027-01-01 10:00:00')"
            )
        )
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        created, verified = conn.execute(
            text("SELECT created_at, email_verified_at FROM users")
        ).one()
    assert verified is not None and str(verified)[:19] == str(created)[:19]
