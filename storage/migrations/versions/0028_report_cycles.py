"""Reports on a cycle: a scheduled report is drafted for the chair (its data as the chair
saw it, its slot once-only per profile), then delivered, held or expired.

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("report_record") as batch:
        batch.add_column(
            sa.Column("state", sa.String(16), nullable=False, server_default="delivered")
        )
        batch.add_column(sa.Column("slot", UTC_TS, nullable=True))
        batch.add_column(sa.Column("period_start", UTC_TS, nullable=True))
        batch.add_column(sa.Column("period_end", UTC_TS, nullable=True))
        batch.add_column(sa.Column("data", sa.Text, nullable=True))
        batch.add_column(sa.Column("needs", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("bound_to", sa.Text, nullable=True))
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("destinations", sa.Text, nullable=True))
        batch.add_column(sa.Column("updated_at", UTC_TS, nullable=True))
        batch.add_column(sa.Column("resent_at", UTC_TS, nullable=True))
        batch.add_column(sa.Column("decided_by", sa.String(255), nullable=True))
        batch.add_column(sa.Column("decided_at", UTC_TS, nullable=True))
        batch.add_column(sa.Column("reason", sa.String(500), nullable=False, server_default=""))
        batch.create_unique_constraint("uq_report_slot", ["profile", "slot"])
        batch.create_index("ix_report_record_state", ["state"])


def downgrade() -> None:
    with op.batch_alter_table("report_record") as batch:
        batch.drop_index("ix_report_record_state")
        batch.drop_constraint("uq_report_slot", type_="unique")
        for name in ("reason", "decided_at", "decided_by", "resent_at", "updated_at",
                     "destinations", "version", "bound_to", "needs", "data", "period_end",
                     "period_start", "slot", "state"):  # fmt: skip
            batch.drop_column(name)
