"""Status updates (history), narrative notes and country reports.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "status_update",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("at", UTC_TS, nullable=False),
    )
    op.create_index("ix_status_update_at", "status_update", ["at"])
    # The latest state per (country, item) is the row with the highest id.
    op.create_index("ix_status_update_latest", "status_update", ["country", "item_id", "id"])
    op.create_table(
        "status_note",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("at", UTC_TS, nullable=False),
    )
    op.create_index("ix_status_note_country", "status_note", ["country"])
    op.create_index("ix_status_note_at", "status_note", ["at"])
    op.create_table(
        "report",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("at", UTC_TS, nullable=False),
    )
    op.create_index("ix_report_country", "report", ["country"])
    op.create_index("ix_report_at", "report", ["at"])


def downgrade() -> None:
    for table in ("report", "status_note", "status_update"):
        op.drop_table(table)
