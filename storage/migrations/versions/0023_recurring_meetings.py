"""Recurring meetings: how often, and the next one once it is scheduled.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meeting") as batch:
        batch.add_column(sa.Column("every", sa.String(16), nullable=True))
        batch.add_column(sa.Column("followed_by", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("meeting") as batch:
        batch.drop_column("followed_by")
        batch.drop_column("every")
