"""users.public_full_record: the learner's opt-in to show cadence health publicly

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 12:50:00

Public pages show a learner's progress only (milestones done, seasons
completed, streak) unless they opt in to the full record. Existing accounts
start opted out, like new ones. Added with a server default, so SQLite adds
the column in place instead of rebuilding the users table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("public_full_record", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    # A plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): no rebuild of users.
    op.drop_column("users", "public_full_record")
