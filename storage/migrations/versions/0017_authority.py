"""Authority that holds: a motion's electorate and quorum fixed when it opens; contact
details changed by someone else marked with who and when; draft digests versioned, so that a
chair approves the version they saw.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("motion") as table:
        table.add_column(sa.Column("electorate", sa.String(500), nullable=True))
        table.add_column(sa.Column("quorum", sa.Integer, nullable=True))
    with op.batch_alter_table("roster") as table:
        table.add_column(sa.Column("changed_at", UTC_TS, nullable=True))
        table.add_column(sa.Column("changed_by", sa.String(255), nullable=True))
    with op.batch_alter_table("digest_draft") as table:
        table.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("digest_draft") as table:
        table.drop_column("version")
    with op.batch_alter_table("roster") as table:
        table.drop_column("changed_by")
        table.drop_column("changed_at")
    with op.batch_alter_table("motion") as table:
        table.drop_column("quorum")
        table.drop_column("electorate")
