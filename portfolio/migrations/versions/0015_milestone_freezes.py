"""milestone freezes: the headline figures a project showed at each milestone

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 08:40:00

Syncs replace a run's snapshot and delete the old one, so what a project showed
when a milestone was reached has to be copied out: one row per milestone with
the visible runs' headline values and a small series each (JSON).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import portfolio.models.types

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "milestone_freezes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("frozen_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("headline_metric", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("headline_goal", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("runs", sa.JSON(), nullable=False),
        sa.Column("refrozen_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(["milestone_id"], ["milestones.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("milestone_id"),
    )
    with op.batch_alter_table("milestone_freezes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_milestone_freezes_project_id"), ["project_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("milestone_freezes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestone_freezes_project_id"))
    op.drop_table("milestone_freezes")
