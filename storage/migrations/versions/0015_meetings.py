"""Meetings with agendas and minutes; actions with owners and due dates.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("starts_at", UTC_TS, nullable=False, index=True),
        sa.Column("room_kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("agenda_at", UTC_TS, nullable=True),
        sa.Column("reminded_at", UTC_TS, nullable=True),
        sa.Column("minutes_room", sa.String(255), nullable=True),
        sa.Column("started_at", UTC_TS, nullable=True),
        sa.Column("stopped_at", UTC_TS, nullable=True),
    )
    op.create_table(
        "minute_entry",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("meeting", sa.Integer, nullable=False, index=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("action", sa.Integer, nullable=True),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("at", UTC_TS, nullable=False),
    )
    op.create_table(
        "action",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("due_at", UTC_TS, nullable=False, index=True),
        sa.Column("state", sa.String(8), nullable=False, server_default="open", index=True),
        sa.Column("meeting", sa.Integer, nullable=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("reminded_at", UTC_TS, nullable=True),
        sa.Column("overdue_at", UTC_TS, nullable=True),
        sa.Column("done_at", UTC_TS, nullable=True),
        sa.Column("done_by", sa.String(255), nullable=True),
        sa.Column("done_note", sa.String(1000), nullable=False, server_default=""),
    )


def downgrade() -> None:
    for table in ("action", "minute_entry", "meeting"):
        op.drop_table(table)
