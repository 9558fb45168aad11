"""Corrections with history: every edit of an incident, a lesson or a resource kept as a
`correction` row (field, before, after, who, when, from which event); lessons and resources
can be withdrawn (they then leave listings, searches and digests); a status update can be
undone by its author (it then no longer counts). SQLite's full-text index follows edits.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)
SEARCHED = {"lesson": ("text", "tags"), "resource": ("description", "kind")}


def upgrade() -> None:
    op.create_table(
        "correction",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("before", sa.Text, nullable=False),
        sa.Column("after", sa.Text, nullable=False),
        sa.Column("by", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("at", UTC_TS, nullable=False),
    )
    op.create_index("ix_correction_record", "correction", ["kind", "number"])
    for table in ("lesson", "resource"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("withdrawn_at", UTC_TS, nullable=True))
    with op.batch_alter_table("status_update") as batch:
        batch.add_column(sa.Column("undone_at", UTC_TS, nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        for table, columns in SEARCHED.items():
            cols = ", ".join(columns)
            new = ", ".join(f"new.{c}" for c in columns)
            old = ", ".join(f"old.{c}" for c in columns)
            op.execute(
                f"CREATE TRIGGER {table}_fts_update AFTER UPDATE ON {table} BEGIN "
                f"INSERT INTO {table}_fts({table}_fts, rowid, {cols}) "
                f"VALUES ('delete', old.id, {old}); "
                f"INSERT INTO {table}_fts(rowid, {cols}) VALUES (new.id, {new}); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in SEARCHED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_update")
    with op.batch_alter_table("status_update") as batch:
        batch.drop_column("undone_at")
    for table in ("resource", "lesson"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("withdrawn_at")
    op.drop_index("ix_correction_record", "correction")
    op.drop_table("correction")
