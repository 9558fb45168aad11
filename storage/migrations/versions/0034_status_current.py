"""The current update of each (country, item), so that `!status` and `!gaps` do not group the
whole history (storage.status.StatusCurrent).

Revision ID: 0034
Revises: 0033
"""

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "status_current",
        sa.Column("country", sa.String(2), primary_key=True),
        sa.Column("item_id", sa.String(64), primary_key=True),
        sa.Column("update_id", sa.Integer, nullable=False),
    )
    op.execute(
        "INSERT INTO status_current (country, item_id, update_id) "
        "SELECT country, item_id, max(id) FROM status_update WHERE undone_at IS NULL "
        "GROUP BY country, item_id"
    )


def downgrade() -> None:
    op.drop_table("status_current")
