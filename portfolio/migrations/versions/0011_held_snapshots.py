"""held snapshots and import warnings

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 13:00:00

A sync or import whose result is less complete than the run's current snapshot
is kept aside instead of replacing it (run_links.held_snapshot_id and the reason
members see), and an offline import tells the uploader when its file ends early
(offline_imports.warning).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("run_links") as batch:
        batch.add_column(sa.Column("held_snapshot_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "held_reason",
                sqlmodel.sql.sqltypes.AutoString(length=500),
                nullable=False,
                server_default="",
            )
        )
    with op.batch_alter_table("offline_imports") as batch:
        batch.add_column(
            sa.Column(
                "warning",
                sqlmodel.sql.sqltypes.AutoString(length=1000),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("offline_imports") as batch:
        batch.drop_column("warning")
    with op.batch_alter_table("run_links") as batch:
        batch.drop_column("held_reason")
        batch.drop_column("held_snapshot_id")
