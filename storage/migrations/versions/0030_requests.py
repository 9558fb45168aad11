"""Requests for assistance and their offers; a resource may name the item it helps with.

Revision ID: 0030
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "assistance_request",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("asked", sa.String(2), nullable=True),
        sa.Column("item", sa.String(64), nullable=True),
        sa.Column("due_at", UTC_TS, nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("origin_room", sa.String(255), nullable=False),
        sa.Column("said_to", sa.Text, nullable=True),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("matched", sa.Text, nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("first_offer_at", UTC_TS, nullable=True),
        sa.Column("accepted_offer", sa.Integer, nullable=True),
        sa.Column("delivered_at", UTC_TS, nullable=True),
        sa.Column("closed_at", UTC_TS, nullable=True),
        sa.Column("feedback", sa.Text, nullable=True),
        sa.Column("acked_by", sa.String(255), nullable=True),
        sa.Column("acked_at", UTC_TS, nullable=True),
        sa.Column("rounds", sa.Integer, nullable=False),
        sa.Column("reminded_at", UTC_TS, nullable=True),
        sa.Column("unanswered_told_at", UTC_TS, nullable=True),
    )
    for column in ("country", "item", "state", "created_at"):
        op.create_index(f"ix_assistance_request_{column}", "assistance_request", [column])
    op.create_table(
        "assistance_offer",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("request", sa.Integer, nullable=False),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("at", UTC_TS, nullable=False),
    )
    op.create_index("ix_assistance_offer_request", "assistance_offer", ["request"])
    with op.batch_alter_table("resource") as batch:
        batch.add_column(sa.Column("item", sa.String(64), nullable=True))
        batch.create_index("ix_resource_item", ["item"])


def downgrade() -> None:
    with op.batch_alter_table("resource") as batch:
        batch.drop_index("ix_resource_item")
        batch.drop_column("item")
    op.drop_index("ix_assistance_offer_request", "assistance_offer")
    op.drop_table("assistance_offer")
    for column in ("country", "item", "state", "created_at"):
        op.drop_index(f"ix_assistance_request_{column}", "assistance_request")
    op.drop_table("assistance_request")
