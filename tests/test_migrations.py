"""Migrations: one head, and upgrade-from-empty matches the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import portfolio.models  # noqa: F401
from portfolio.migrate import alembic_config, downgrade, upgrade


def test_single_head(migrated_engine):
    script = ScriptDirectory.from_config(alembic_config(migrated_engine))
    assert len(script.get_heads()) == 1


def test_upgrade_from_empty_matches_models(fresh_engine):
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == []


def test_downgrade_to_base_and_up_again(fresh_engine):
    upgrade(fresh_engine)
    downgrade(fresh_engine, "base")
    with fresh_engine.connect() as conn:
        ctx = MigrationContext.configure(conn)
        assert ctx.get_current_revision() is None
    upgrade(fresh_engine)
