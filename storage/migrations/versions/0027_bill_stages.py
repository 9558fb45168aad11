"""Legislation, stage by stage: a legal item's bill in one country, with its champion.

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bill_stage",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("champion", sa.String(255), nullable=True),
        sa.Column("evidence", sa.String(2000), nullable=True),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_bill_stage_country", "bill_stage", ["country"])


def downgrade() -> None:
    op.drop_index("ix_bill_stage_country", "bill_stage")
    op.drop_table("bill_stage")
