"""National contacts beside the NCPOCs, and broadcasts by audience acknowledged by country.

Roster entries carry a contact's details (kind, agency, title, email, phone, language, rank
of an NCPOC, when last confirmed, absence); the config roster's copy keeps them too, so a
change in the config is a change of details, not a new member. Each request to re-confirm
one's details, and its escalation, is logged once per cycle. A broadcast has an audience
and a TLP label; each recipient row records its tier in the escalation chain, the email sent
in fallback, who recorded an acknowledgement obtained outside Matrix, and onward relay.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def roster() -> list[sa.Column]:
    return [
        sa.Column("kind", sa.String(16), nullable=True),
        sa.Column("rank", sa.String(16), nullable=True),
        sa.Column("agency", sa.String(200), nullable=True),
        sa.Column("title", sa.String(200), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("lang", sa.String(8), nullable=True),
        sa.Column("confirmed_at", UTC_TS, nullable=True),
        sa.Column("away_until", UTC_TS, nullable=True),
        sa.Column("away_to", sa.String(255), nullable=True),
    ]


def broadcast() -> list[sa.Column]:
    return [
        sa.Column("tlp", sa.String(16), nullable=False, server_default="amber"),
        sa.Column("audience", sa.String(100), nullable=False, server_default="ncpocs"),
    ]


def recipient() -> list[sa.Column]:
    return [
        sa.Column("tier", sa.String(16), nullable=False, server_default="primary"),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("email_outbox_id", sa.Integer, nullable=True),
        sa.Column("ack_recorded_by", sa.String(255), nullable=True),
        sa.Column("relayed_at", UTC_TS, nullable=True),
        sa.Column("relay_note", sa.Text, nullable=True),
    ]


def upgrade() -> None:
    for table, columns in (
        ("roster", roster()),
        ("broadcast", broadcast()),
        ("broadcast_recipient", recipient()),
    ):
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.add_column(column)
    with op.batch_alter_table("roster_seed") as batch:
        batch.add_column(sa.Column("details", sa.Text, nullable=False, server_default="{}"))
    op.create_table(
        "contact_check",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("due_at", UTC_TS, nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("at", UTC_TS, nullable=False),
        sa.UniqueConstraint("user_id", "due_at", "stage", name="uq_contact_check"),
    )


def downgrade() -> None:
    op.drop_table("contact_check")
    with op.batch_alter_table("roster_seed") as batch:
        batch.drop_column("details")
    for table, columns in (
        ("broadcast_recipient", recipient()),
        ("broadcast", broadcast()),
        ("roster", roster()),
    ):
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_column(column.name)
