"""A member's pinned identity keeps the self-signing key its master key signed, so that the
devices signed under it keep counting after the homeserver publishes another identity; the
pending identity keeps its own, and a key the chair refused is remembered.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identity") as table:
        table.add_column(sa.Column("self_signing_key", sa.String(64), nullable=True))
        table.add_column(sa.Column("pending_ssk", sa.String(64), nullable=True))
        table.add_column(sa.Column("refused_key", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identity") as table:
        table.drop_column("refused_key")
        table.drop_column("pending_ssk")
        table.drop_column("self_signing_key")
