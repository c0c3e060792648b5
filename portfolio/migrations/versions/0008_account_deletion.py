"""account deletion: reserved handles and the admin log

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 07:30:00

Deleting an account keeps its handle reserved for a while (nobody takes
over the person's old links at once) and records admin deletions, with the
reason given, in a small admin log.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import portfolio.models.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handle_reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handle", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("reserved_until", portfolio.models.types.UTCDateTime(), nullable=False),
        sa.Column("created_at", portfolio.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("handle_reservations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handle_reservations_handle"), ["handle"], unique=True)
    op.create_table(
        "admin_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", portfolio.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("admin_log", schema=None) as batch_op:
        batch_op.create_index("ix_admin_log_created", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("admin_log", schema=None) as batch_op:
        batch_op.drop_index("ix_admin_log_created")
    op.drop_table("admin_log")
    with op.batch_alter_table("handle_reservations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handle_reservations_handle"))
    op.drop_table("handle_reservations")
