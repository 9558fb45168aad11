"""A processed event remembers which encrypted message it was (its megolm session and message
index): the same ciphertext again under another event ID is a replay and is not handled
(bot.matrix.replay).

Revision ID: 0036
Revises: 0035
"""

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_event") as batch:
        batch.add_column(sa.Column("ciphertext", sa.String(128), nullable=True))
    op.create_index(
        "ix_processed_event_ciphertext", "processed_event", ["ciphertext"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_processed_event_ciphertext", table_name="processed_event")
    with op.batch_alter_table("processed_event") as batch:
        batch.drop_column("ciphertext")
