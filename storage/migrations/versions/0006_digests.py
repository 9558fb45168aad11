"""Digest log (one row per digest; a scheduled slot only once) and outbox file entries.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(16), nullable=False, server_default="message")
        )
    op.create_table(
        "digest_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slot", UTC_TS, nullable=True),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("requested_by", sa.String(255), nullable=False),
        sa.Column("posted_at", UTC_TS, nullable=False),
        sa.UniqueConstraint("slot", name="uq_digest_slot"),
    )
    op.create_index("ix_digest_log_posted_at", "digest_log", ["posted_at"])


def downgrade() -> None:
    op.drop_table("digest_log")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("kind")
