"""email links, server-side sessions, verified email

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 07:30:00

Accounts that exist before this revision are marked verified as of their
creation: their owners signed up when no address was checked, and making
every existing user confirm at once would stop their reminders the day an
operator turns REQUIRE_VERIFIED_EMAIL on. Sessions signed in before it end
(they were keyed by users.login_id, which is no longer read): people sign in
once more.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import portfolio.models.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both backends: no batch rebuild of the users table.
    op.add_column(
        "users",
        sa.Column(
            "email_verified_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=True
        ),
    )
    op.execute("UPDATE users SET email_verified_at = created_at")
    op.create_table(
        "email_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("new_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("created_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("email_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_tokens_token_hash"), ["token_hash"], unique=True)
        batch_op.create_index("ix_email_tokens_user_purpose", ["user_id", "purpose"], unique=False)
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "last_seen_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("user_agent", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_key_hash"), ["key_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("user_sessions")
    op.drop_table("email_tokens")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_verified_at")
