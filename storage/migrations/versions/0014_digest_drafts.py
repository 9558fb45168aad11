"""Digests for the Steering Committee wait for the chair's approval as drafts.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "digest_draft",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("period_start", UTC_TS, nullable=False),
        sa.Column("period_end", UTC_TS, nullable=False),
        sa.Column("period_label", sa.String(100), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("slot", UTC_TS, nullable=True),
        sa.Column("requested_by", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("omit", sa.String(1000), nullable=False, server_default=","),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("needs", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("updated_at", UTC_TS, nullable=False),
        sa.Column("resent_at", UTC_TS, nullable=True),
        sa.Column("decided_by", sa.String(255), nullable=True),
        sa.Column("decided_at", UTC_TS, nullable=True),
        sa.Column("reason", sa.String(500), nullable=False, server_default=""),
        sa.UniqueConstraint("slot", name="uq_digest_draft_slot"),
    )


def downgrade() -> None:
    op.drop_table("digest_draft")
