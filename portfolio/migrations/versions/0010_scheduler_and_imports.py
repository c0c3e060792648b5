"""scheduler heartbeats, singleton lease, queued offline imports

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:03:24

Three tables for running the scheduler on several processes: one heartbeat
row per scheduler process (for /readyz and the admin pages), the lease that
lets one process at a time run the singleton jobs, and offline-run uploads
queued for the scheduler's import job instead of imported inside a request.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import portfolio.models.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("expires_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "scheduler_processes",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("started_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("beat_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("scheduler_processes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scheduler_processes_beat_at"), ["beat_at"], unique=False
        )

    op.create_table(
        "offline_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("storage_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", portfolio.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["link_id"], ["run_links.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("offline_imports", schema=None) as batch_op:
        batch_op.create_index("ix_offline_imports_due", ["state", "lease_until"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_offline_imports_project_id"), ["project_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("offline_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offline_imports_project_id"))
        batch_op.drop_index("ix_offline_imports_due")

    op.drop_table("offline_imports")
    with op.batch_alter_table("scheduler_processes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduler_processes_beat_at"))

    op.drop_table("scheduler_processes")
    op.drop_table("scheduler_leases")
