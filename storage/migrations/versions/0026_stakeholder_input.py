"""Stakeholders' input to the Caribbean Stakeholders Meeting (IN-n), and the motion it became.

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stakeholder_input",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("meeting", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("origin_room", sa.String(255), nullable=True),
        sa.Column("said_to", sa.Text, nullable=True),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("motion", sa.Integer, nullable=True),
    )
    op.create_index("ix_stakeholder_input_at", "stakeholder_input", ["at"])


def downgrade() -> None:
    op.drop_index("ix_stakeholder_input_at", "stakeholder_input")
    op.drop_table("stakeholder_input")
