"""The catalogue as numbered versions decided by motion and vote; projects; evidence.

A file sent as a reply to the bot's confirmation of a status update is kept with it
(`attachment`: its name and where to fetch it, an encrypted file's key included, like the
rest of the row). The catalogue lives in the database (`catalogue_version`, the highest
in force; the file seeds version 1 at the first start). Motions change it by one vote per
member state. A status update records the version it was made against, a link to its
evidence and where the assessment came from. Projects and their progress are registered
against catalogue items.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def status_columns() -> list[sa.Column]:
    return [
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("evidence", sa.String(2000), nullable=True),
        sa.Column("source", sa.String(16), nullable=True),
        sa.Column("attachment", sa.Text, nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("status_update") as batch:
        for column in status_columns():
            batch.add_column(column)
    op.create_table(
        "catalogue_version",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("motion", sa.Integer, nullable=True),
        sa.Column("note", sa.String(500), nullable=False, server_default=""),
        sa.Column("created_at", UTC_TS, nullable=False),
    )
    op.create_table(
        "motion",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("proposer", sa.String(255), nullable=False),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("seconder", sa.String(255), nullable=True),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("base_version", sa.Integer, nullable=False),
        sa.Column("due", sa.String(7), nullable=True),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("opened_at", UTC_TS, nullable=True),
        sa.Column("closes_at", UTC_TS, nullable=True),
        sa.Column("decided_at", UTC_TS, nullable=True),
        sa.Column("result", sa.String(500), nullable=False, server_default=""),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
    )
    op.create_table(
        "vote",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("motion", sa.Integer, nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("voter", sa.String(255), nullable=False),
        sa.Column("choice", sa.String(8), nullable=False),
        sa.Column("note", sa.String(500), nullable=False, server_default=""),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("at", UTC_TS, nullable=False),
        sa.UniqueConstraint("motion", "country", name="uq_vote_country"),
    )
    op.create_table(
        "project",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("lead", sa.String(200), nullable=False),
        sa.Column("partners", sa.String(1000), nullable=False, server_default=","),
        sa.Column("funding", sa.String(300), nullable=False, server_default=""),
        sa.Column("countries", sa.String(200), nullable=False, server_default=","),
        sa.Column("items", sa.String(1000), nullable=False, server_default=","),
        sa.Column("target", sa.String(7), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="planned"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("updated_at", UTC_TS, nullable=False, index=True),
    )
    op.create_table(
        "project_update",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project", sa.Integer, nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("at", UTC_TS, nullable=False, index=True),
    )


def downgrade() -> None:
    for table in ("project_update", "project", "vote", "motion", "catalogue_version"):
        op.drop_table(table)
    with op.batch_alter_table("status_update") as batch:
        for column in status_columns():
            batch.drop_column(column.name)
