"""Outbox, bot state (sync token), undecrypted events, direct rooms.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("txn_id", sa.String(64), nullable=False, unique=True),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("sent_at", UTC_TS, nullable=True),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("error", sa.String(255), nullable=True),
    )
    op.create_index("ix_outbox_state", "outbox", ["state"])
    op.create_table(
        "bot_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", UTC_TS, nullable=False),
    )
    op.create_table(
        "undecrypted_event",
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("sender", sa.String(255), nullable=False),
        sa.Column("session_id", sa.String(255), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("first_seen", UTC_TS, nullable=False),
        sa.Column("notified_at", UTC_TS, nullable=True),
    )
    op.create_table(
        "direct_room",
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("direct_room", "undecrypted_event", "bot_state", "outbox"):
        op.drop_table(table)
