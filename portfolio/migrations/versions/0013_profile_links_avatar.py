"""profile avatar, links and "looking for" line

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 13:05:00

Columns added to users (adding, unlike dropping, does not rebuild the table
on SQLite). The avatar's bytes live in the storage backend; the column holds
its file name.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = (("github_url", 300), ("linkedin_url", 300), ("website_url", 300), ("looking_for", 140))


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("avatar", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
    )
    for name, length in _TEXT:
        op.add_column(
            "users",
            sa.Column(
                name,
                sqlmodel.sql.sqltypes.AutoString(length=length),
                nullable=False,
                server_default="",
            ),
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        for name, _ in reversed(_TEXT):
            batch_op.drop_column(name)
        batch_op.drop_column("avatar")
