"""Incidents, lessons and resources indexed by label: what a reader may not see is counted
at every listing (storage.visibility.InFull.withheld), without reading every row.

Revision ID: 0035
Revises: 0034
"""

from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

TABLES = ("incident", "lesson", "resource")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_tlp", table, ["tlp"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_tlp", table_name=table)
