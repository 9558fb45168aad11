"""An incident's observables, matched across countries by a keyed hash, and the links found.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "observable",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incident.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("keyed", sa.String(64), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("origin_room", sa.String(255), nullable=False),
        sa.Column("said_to", sa.Text, nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.UniqueConstraint("incident_id", "kind", "value"),
    )
    op.create_index("ix_observable_incident_id", "observable", ["incident_id"])
    op.create_index("ix_observable_keyed", "observable", ["keyed"])
    op.create_table(
        "incident_link",
        sa.Column("first", sa.Integer, sa.ForeignKey("incident.id"), primary_key=True),
        sa.Column("second", sa.Integer, sa.ForeignKey("incident.id"), primary_key=True),
        sa.Column("found_at", UTC_TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("incident_link")
    op.drop_index("ix_observable_keyed", "observable")
    op.drop_index("ix_observable_incident_id", "observable")
    op.drop_table("observable")
