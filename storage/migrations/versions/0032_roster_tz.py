"""Each person's own time zone, as their Matrix profile gives it (`m.tz`).

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("roster") as batch:
        batch.add_column(sa.Column("tz", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("roster") as batch:
        batch.drop_column("tz")
