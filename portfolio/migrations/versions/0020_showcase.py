"""showcase entries: a project's demo-day highlight and admin pin

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 12:45:00

One row per project a learner featured at demo day or an admin pinned on the
season page; deleting the project deletes its row, deleting the admin keeps
the pin.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import portfolio.models.types

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "showcase_entries",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("featured_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("highlight", sqlmodel.sql.sqltypes.AutoString(length=140), nullable=False),
        sa.Column("pinned_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("pinned_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["pinned_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("project_id"),
    )


def downgrade() -> None:
    op.drop_table("showcase_entries")
