"""A project's target kept: when its lead was reminded, and when it was found overdue.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("project") as batch:
        batch.add_column(sa.Column("reminded_at", UTC_TS, nullable=True))
        batch.add_column(sa.Column("overdue_at", UTC_TS, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("project") as batch:
        batch.drop_column("overdue_at")
        batch.drop_column("reminded_at")
