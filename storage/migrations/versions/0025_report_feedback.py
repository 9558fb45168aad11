"""Reports as records (RP-n) and their readers' feedback.

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "report_record",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("profile", sa.String(16), nullable=False),
        sa.Column("period_key", sa.String(16), nullable=False),
        sa.Column("period_label", sa.String(100), nullable=False),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("at", UTC_TS, nullable=False),
    )
    op.create_table(
        "report_feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("origin_room", sa.String(255), nullable=True),
        sa.Column("said_to", sa.Text, nullable=True),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("at", UTC_TS, nullable=False),
    )
    op.create_index("ix_report_feedback_report", "report_feedback", ["report"])
    op.create_index("ix_report_feedback_at", "report_feedback", ["at"])


def downgrade() -> None:
    op.drop_index("ix_report_feedback_at", "report_feedback")
    op.drop_index("ix_report_feedback_report", "report_feedback")
    op.drop_table("report_feedback")
    op.drop_table("report_record")
