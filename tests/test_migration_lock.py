"""Concurrent `flask db upgrade` on several hosts is serialised by a PostgreSQL advisory lock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from portfolio.migrate import alembic_config
from portfolio.migrate import migration_lock as lock

ROOT = Path(__file__).resolve().parent.parent

# The real CLI, started the moment a go-file appears so both processes race.
UPGRADE = """
import pathlib, sys, time
go = pathlib.Path(sys.argv[1])
while not go.exists():
    time.sleep(0.002)
from flask.cli import main
sys.argv = ["flask", "--app", "app", "db", "upgrade"]
main()
"""


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")
def test_two_hosts_upgrade_a_fresh_database_at_once(fresh_engine, tmp_path):
    """Two `flask db upgrade` processes at once on an empty database both succeed, once."""
    from alembic.script import ScriptDirectory

    url = fresh_engine.url.render_as_string(hide_password=False)
    go = tmp_path / "go"
    procs = []
    for host in ("a", "b"):
        env = dict(
            os.environ,
            DATABASE_URL=url,
            SECRET_KEY="s" * 48,
            CREDENTIALS_KEY="c" * 48,
            INSTANCE_PATH=str(tmp_path / host),
            LOG_LEVEL="WARNING",
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", UPGRADE, str(go)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    time.sleep(3)  # both interpreters have imported Flask and are polling
    go.touch()
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]
        assert "Database at head." in out
    head = ScriptDirectory.from_config(alembic_config(fresh_engine)).get_current_head()
    with fresh_engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        held = conn.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        )
        assert held.scalar() == 0  # both released the lock
    assert versions == [head]


def test_migration_lock_is_a_no_op_on_sqlite(tmp_path):
    """SQLite needs no lock (one writer): the context manager just runs the block."""
    from portfolio.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn, lock(conn):
        assert conn.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()
