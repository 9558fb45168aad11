"""Deadlines and the log of every reminder decided.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deadline",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("due_at", UTC_TS, nullable=False),
        sa.Column("every", sa.String(16), nullable=True),
        sa.Column("remind", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("config_key", sa.String(300), nullable=True, unique=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("cancelled_at", UTC_TS, nullable=True),
    )
    op.create_index("ix_deadline_status", "deadline", ["status"])
    op.create_table(
        "reminder_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("deadline_id", sa.Integer, sa.ForeignKey("deadline.id"), nullable=False),
        sa.Column("occurrence", UTC_TS, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("recipient", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("scheduled_at", UTC_TS, nullable=False),
        sa.Column("decided_at", UTC_TS, nullable=False),
        sa.UniqueConstraint(
            "deadline_id", "occurrence", "kind", "seq", "recipient", name="uq_reminder_once"
        ),
    )
    op.create_index("ix_reminder_log_deadline_id", "reminder_log", ["deadline_id"])


def downgrade() -> None:
    op.drop_table("reminder_log")
    op.drop_table("deadline")
