"""project tags and the public search index

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-03 08:45:00

project_search holds one row per public project (discovery/index.py keeps it).
Beside it, each engine's own index: on PostgreSQL a generated, weighted
tsvector column with a GIN index; on SQLite an FTS5 table that triggers keep
in step with project_search. Both are filtered out of autogenerate
(discovery/engine.py: is_engine_object), since they are no models. The rows
are filled after the upgrade (`flask db upgrade` runs the reindex when the
index is empty and public projects exist).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import portfolio.models.types

revision: str = "0018"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_TSV = (
    "ALTER TABLE project_search ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', title), 'A') || "
    "setweight(to_tsvector('english', meta), 'B') || "
    "setweight(to_tsvector('english', body), 'C')) STORED"
)
SQLITE_FTS = [
    "DROP TABLE IF EXISTS project_search_fts",
    "CREATE VIRTUAL TABLE project_search_fts USING fts5(title, meta, body, "
    "content='project_search', content_rowid='project_id', tokenize='porter unicode61')",
    "CREATE TRIGGER project_search_ai AFTER INSERT ON project_search BEGIN "
    "INSERT INTO project_search_fts(rowid, title, meta, body) "
    "VALUES (new.project_id, new.title, new.meta, new.body); END",
    "CREATE TRIGGER project_search_ad AFTER DELETE ON project_search BEGIN "
    "INSERT INTO project_search_fts(project_search_fts, rowid, title, meta, body) "
    "VALUES ('delete', old.project_id, old.title, old.meta, old.body); END",
    "CREATE TRIGGER project_search_au AFTER UPDATE ON project_search BEGIN "
    "INSERT INTO project_search_fts(project_search_fts, rowid, title, meta, body) "
    "VALUES ('delete', old.project_id, old.title, old.meta, old.body); "
    "INSERT INTO project_search_fts(rowid, title, meta, body) "
    "VALUES (new.project_id, new.title, new.meta, new.body); END",
]


def upgrade() -> None:
    op.create_table(
        "project_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "slug"),
    )
    with op.batch_alter_table("project_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_tags_project_id"), ["project_id"])
        batch_op.create_index(batch_op.f("ix_project_tags_slug"), ["slug"])
    op.create_table(
        "project_search",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("meta", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", portfolio.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("project_id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_TSV)
        op.execute("CREATE INDEX ix_project_search_tsv ON project_search USING GIN (tsv)")
    else:
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE IF EXISTS project_search_fts")
    op.drop_table("project_search")
    with op.batch_alter_table("project_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_tags_slug"))
        batch_op.drop_index(batch_op.f("ix_project_tags_project_id"))
    op.drop_table("project_tags")
