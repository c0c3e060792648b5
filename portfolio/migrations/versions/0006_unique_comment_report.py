"""one report per person per comment

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 14:40:00

"Report once" was enforced by a check in code only, so two quick submits
could both pass it. Duplicates left by that race are removed (the earliest
report is kept) before the constraint is added.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM comment_reports WHERE id NOT IN "
        "(SELECT MIN(id) FROM comment_reports GROUP BY comment_id, reporter_id)"
    )
    with op.batch_alter_table("comment_reports", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_comment_reports_comment_id_reporter_id", ["comment_id", "reporter_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("comment_reports", schema=None) as batch_op:
        batch_op.drop_constraint("uq_comment_reports_comment_id_reporter_id", type_="unique")
