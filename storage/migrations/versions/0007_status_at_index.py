"""Index the state of an item at a moment: (country, item_id, at).

The digest reads each item's state at the end of its period with one index seek per item,
so its cost does not grow with the years of history.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_status_update_at_pair", "status_update", ["country", "item_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_status_update_at_pair", "status_update")
