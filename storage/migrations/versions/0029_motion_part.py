"""A motion may amend an item's need, solutions or partners, not only its standard.

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("motion") as batch:
        batch.add_column(
            sa.Column("part", sa.String(16), nullable=False, server_default="standard")
        )


def downgrade() -> None:
    with op.batch_alter_table("motion") as batch:
        batch.drop_column("part")
