"""project recaps: the learner's season recap text and its published state

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 12:50:00

One row per project (the project id is the key). The recap's figures are computed
from milestones and freezes when shown, so only the text, who last changed it and
when it was published are stored.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portfolio.models.types

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project_recaps",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("published_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("project_id"),
    )


def downgrade() -> None:
    op.drop_table("project_recaps")
