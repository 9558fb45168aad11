"""The money behind the plan: a project's funding lines, and the funders the committee knows.

Revision ID: 0031
Revises: 0030
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "project_funding",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project", sa.Integer, nullable=False),
        sa.Column("funder", sa.String(200), nullable=False),
        sa.Column("amount", sa.Numeric(16, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("at", UTC_TS, nullable=False),
    )
    op.create_index("ix_project_funding_project", "project_funding", ["project"])
    op.create_table(
        "funder",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("interests", sa.Text, nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("at", UTC_TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("funder")
    op.drop_index("ix_project_funding_project", "project_funding")
    op.drop_table("project_funding")
