"""The lease of two sites on one PostgreSQL (bot/ha.py).

Revision ID: 0033
Revises: 0032
"""

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ha_lease",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("since", UTC_TS, nullable=False),
        sa.Column("expires_at", UTC_TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ha_lease")
