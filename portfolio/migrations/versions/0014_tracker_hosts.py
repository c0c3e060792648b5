"""tracker host pauses, matched-run count of project links

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 12:50:00

A tracker server that keeps timing out is paused as a whole for a while, so one
hanging host cannot hold every other learner's sync; the pause lives in the
database so every scheduler process sees it. Project links remember how many
runs matched their tags on the last listing, so "0 runs carry the tag" can be
shown instead of waiting in silence.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import portfolio.models.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tracker_hosts",
        sa.Column("base_url", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("timeouts", sa.Integer(), nullable=False),
        sa.Column("pauses", sa.Integer(), nullable=False),
        sa.Column("paused_until", portfolio.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("updated_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("base_url"),
    )
    with op.batch_alter_table("run_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("matched_runs", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("run_links", schema=None) as batch_op:
        batch_op.drop_column("matched_runs")
    op.drop_table("tracker_hosts")
