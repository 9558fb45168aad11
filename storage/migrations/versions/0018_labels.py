"""Need-to-know by construction: every record people write carries a label and the people
who heard it; every output in the outbox carries its seal.

Projects, motions, minutes and actions were kept without a label: they become AMBER, as said
in a committee room (the rule's default for what people write). Incidents, lessons and
resources keep who heard them (`said_to`), so TLP:RED is for those people, not for whoever
joins the room later; rows from before keep the old rule (RED in its own room). A relay note
is AMBER unless labelled. An outbox row names its label and the people it is bound to.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

HEARD = ("incident", "lesson", "resource")
LABELLED = ("project", "motion", "minute_entry", "action")


def upgrade() -> None:
    for table in HEARD:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("said_to", sa.Text, nullable=True))
    for table in LABELLED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("tlp", sa.String(16), nullable=False, server_default="amber")
            )
            batch.add_column(sa.Column("origin_room", sa.String(255), nullable=True))
            batch.add_column(sa.Column("said_to", sa.Text, nullable=True))
    with op.batch_alter_table("broadcast_recipient") as batch:
        batch.add_column(
            sa.Column("relay_tlp", sa.String(16), nullable=False, server_default="amber")
        )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("label", sa.String(16), nullable=False, server_default="clear"))
        batch.add_column(sa.Column("bound_to", sa.Text, nullable=True))
    with op.batch_alter_table("digest_draft") as batch:
        batch.add_column(sa.Column("bound_to", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("digest_draft") as batch:
        batch.drop_column("bound_to")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("bound_to")
        batch.drop_column("label")
    with op.batch_alter_table("broadcast_recipient") as batch:
        batch.drop_column("relay_tlp")
    for table in LABELLED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("said_to")
            batch.drop_column("origin_room")
            batch.drop_column("tlp")
    for table in HEARD:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("said_to")
