"""Incidents for intelligence: an RSIT type, a link to other crime, the modus operandi.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incident") as batch:
        batch.add_column(sa.Column("rsit", sa.String(80), nullable=True))
        batch.add_column(sa.Column("crime", sa.String(32), nullable=True))
        batch.add_column(sa.Column("modus", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("modus")
        batch.drop_column("crime")
        batch.drop_column("rsit")
