"""Counters, incidents with their history, lessons learnt and resources, with full-text search.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)
SEARCHED = {"lesson": ("text", "tags"), "resource": ("description", "kind")}


def upgrade() -> None:
    op.create_table(
        "counter",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sectors", sa.String(500), nullable=False),
        sa.Column("countries", sa.String(200), nullable=False),
        sa.Column("reporter", sa.String(255), nullable=False),
        sa.Column("reporter_country", sa.String(2), nullable=True),
        sa.Column("origin_room", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("updated_at", UTC_TS, nullable=False),
        sa.Column("closed_at", UTC_TS, nullable=True),
    )
    op.create_index("ix_incident_status", "incident", ["status"])
    op.create_index("ix_incident_created_at", "incident", ["created_at"])
    op.create_table(
        "incident_update",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incident.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("severity", sa.String(16), nullable=True),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("at", UTC_TS, nullable=False),
    )
    op.create_index("ix_incident_update_incident_id", "incident_update", ["incident_id"])
    op.create_table(
        "lesson",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("area", sa.String(32), nullable=True),
        sa.Column("tags", sa.String(500), nullable=False),
        sa.Column("incident", sa.Integer, nullable=True),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("author", sa.String(255), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("origin_room", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
    )
    op.create_index("ix_lesson_created_at", "lesson", ["created_at"])
    op.create_table(
        "resource",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("origin_room", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
    )
    op.create_index("ix_resource_kind", "resource", ["kind"])
    op.create_index("ix_resource_country", "resource", ["country"])
    op.create_index("ix_resource_created_at", "resource", ["created_at"])
    for table, columns in SEARCHED.items():
        _full_text(table, columns)


def _full_text(table: str, columns: tuple[str, ...]) -> None:
    """English stemming on both: SQLite FTS5 (porter) kept by triggers; PostgreSQL GIN."""
    if op.get_bind().dialect.name == "sqlite":
        cols = ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        op.execute(
            f"CREATE VIRTUAL TABLE {table}_fts USING fts5({cols}, content='{table}', "
            f"content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')"
        )
        op.execute(
            f"CREATE TRIGGER {table}_fts_insert AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {table}_fts(rowid, {cols}) VALUES (new.id, {new}); END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_fts_delete AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {table}_fts({table}_fts, rowid, {cols}) "
            f"VALUES ('delete', old.id, {old}); END"
        )
        return
    document = " || ' ' || ".join(f"coalesce({c}, '')" for c in columns)
    op.execute(
        f"CREATE INDEX ix_{table}_fts ON {table} USING gin (to_tsvector('english', {document}))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in SEARCHED:
            op.execute(f"DROP TABLE IF EXISTS {table}_fts")
    for table in ("resource", "lesson", "incident_update", "incident", "counter"):
        op.drop_table(table)
