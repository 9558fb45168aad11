"""National follow-through: each member state's endorsement of an adopted standard.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "endorsement",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("standard", sa.Text, nullable=False),
        sa.Column("evidence", sa.String(2000), nullable=True),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("country", "item_id", "version"),
    )
    op.create_index("ix_endorsement_country", "endorsement", ["country"])
    op.create_index("ix_endorsement_item_id", "endorsement", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_endorsement_item_id", "endorsement")
    op.drop_index("ix_endorsement_country", "endorsement")
    op.drop_table("endorsement")
