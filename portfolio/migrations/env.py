"""Alembic environment: the URL comes from the app's config, never from a file."""

from __future__ import annotations

from pathlib import Path

from alembic import context
from sqlmodel import SQLModel

import portfolio.models  # noqa: F401  (registers every table on the metadata)
from portfolio import config as app_config
from portfolio.db import make_engine
from portfolio.discovery.engine import include_name
from portfolio.migrate import migration_lock

config = context.config
target_metadata = SQLModel.metadata


def _engine():
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine
    # Plain `alembic` CLI: read DATABASE_URL like the app does.
    instance = Path(__file__).resolve().parents[2] / "instance"
    return make_engine(app_config.from_env(instance)["DATABASE_URL"])


def run_migrations_offline() -> None:
    url = _engine().url
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
        render_as_batch=url.get_backend_name() == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = _engine()
    # One host at a time: the others wait here, then find nothing left to do.
    with engine.connect() as connection, migration_lock(connection):
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            include_name=include_name,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
