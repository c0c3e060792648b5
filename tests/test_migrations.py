"""Migrations: one head, and upgrade-from-empty matches the models exactly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel

import portfolio.models  # noqa: F401
from portfolio.db import make_engine
from portfolio.migrate import alembic_config, downgrade, upgrade


@pytest.fixture()
def fresh_engine(database_url: str, tmp_path) -> Iterator[Engine]:
    """An empty database of the suite's kind: a new SQLite file or a new PG database."""
    if not database_url.startswith("postgresql"):
        engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield engine
        engine.dispose()
        return
    url = make_url(database_url)
    name = f"seasons_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
