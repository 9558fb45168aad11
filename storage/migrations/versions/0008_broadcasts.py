"""Emergency broadcasts: recipients with deliveries and acknowledgements, re-notification log.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("ref", sa.String(64), nullable=True))
        batch.create_index("ix_outbox_ref", ["ref"])
    op.create_table(
        "broadcast",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("exercise", sa.Boolean, nullable=False),
        sa.Column("sender", sa.String(255), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
    )
    op.create_index("ix_broadcast_created_at", "broadcast", ["created_at"])
    op.create_table(
        "broadcast_recipient",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("broadcast_id", sa.Integer, sa.ForeignKey("broadcast.id"), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("dm_room", sa.String(255), nullable=True),
        sa.Column("dm_outbox_id", sa.Integer, nullable=True),
        sa.Column("acked_at", UTC_TS, nullable=True),
        sa.Column("ack_via", sa.String(16), nullable=True),
        sa.Column("ack_event_id", sa.String(255), nullable=True),
        sa.UniqueConstraint("broadcast_id", "user_id", name="uq_broadcast_user"),
    )
    op.create_index("ix_broadcast_recipient_broadcast_id", "broadcast_recipient", ["broadcast_id"])
    op.create_table(
        "broadcast_notice",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("broadcast_id", sa.Integer, sa.ForeignKey("broadcast.id"), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("recipient", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", UTC_TS, nullable=False),
        sa.UniqueConstraint("broadcast_id", "round", "recipient", name="uq_broadcast_notice"),
    )
    op.create_index("ix_broadcast_notice_broadcast_id", "broadcast_notice", ["broadcast_id"])


def downgrade() -> None:
    op.drop_table("broadcast_notice")
    op.drop_table("broadcast_recipient")
    op.drop_table("broadcast")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_ref")
        batch.drop_column("ref")
