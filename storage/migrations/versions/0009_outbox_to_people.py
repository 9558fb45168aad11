"""Outbox messages addressed to a person (sent in the bot's DM with them, opened when first
needed), who to tell if one is refused for good, and when they were told; and how readable
a room must still be when a message is sent (it shows labelled content); and notices for the
chair about the committee's rooms (an alias moved, a room upgraded).

Broadcast recipients no longer keep their DM room: it is the room of their delivery message.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("room_id", existing_type=sa.String(255), nullable=True)
        batch.add_column(sa.Column("to_user", sa.String(255), nullable=True))
        batch.add_column(sa.Column("report_to", sa.Text, nullable=True))
        batch.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("needs", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("broadcast_recipient") as batch:
        batch.drop_column("dm_room")
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("notice")
    with op.batch_alter_table("broadcast_recipient") as batch:
        batch.add_column(sa.Column("dm_room", sa.String(255), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("needs")
        batch.drop_column("reported_at")
        batch.drop_column("report_to")
        batch.drop_column("to_user")
        batch.alter_column("room_id", existing_type=sa.String(255), nullable=False)
