"""Trust: a hash chain over the audit log, guards the bot's own account cannot pass, and the
cross-signing identity pinned for each member.

Each audit entry carries the SHA-256 of the previous entry and of its own content; the
`audit_chain` row holds the head and serialises writers. Entries written before this
migration are chained now, in order. Inserting over an existing entry (SQLite's `INSERT OR
REPLACE`) and TRUNCATE (PostgreSQL) are refused, like UPDATE and DELETE already are.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from storage.chain import GENESIS, entry_hash

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("audit_log", sa.Column("hash", sa.String(64), nullable=True))
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("head_id", sa.Integer, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "identity",
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("master_key", sa.String(64), nullable=False),
        sa.Column("pinned_at", UTC_TS, nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("pending_key", sa.String(64), nullable=True),
        sa.Column("pending_since", UTC_TS, nullable=True),
        sa.Column("pending_event", sa.String(255), nullable=True),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    _chain_existing(sqlite)
    if sqlite:
        op.execute(
            "CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log "
            "WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id) "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )


def _chain_existing(sqlite: bool) -> None:
    """Chain the entries written before this migration, with the guard lifted meanwhile."""
    bind = op.get_bind()
    if sqlite:
        op.execute("DROP TRIGGER audit_log_no_update")
    else:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    rows = bind.execute(
        sa.text(
            "SELECT id, at, actor, action, outcome, room_id, event_id, detail "
            "FROM audit_log ORDER BY id"
        )
    ).mappings()
    previous, head = GENESIS, 0
    for row in list(rows):
        digest = entry_hash(previous, dict(row))
        bind.execute(
            sa.text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE id = :i"),
            {"p": previous, "h": digest, "i": row["id"]},
        )
        previous, head = digest, row["id"]
    bind.execute(
        sa.text("INSERT INTO audit_chain (id, head_id, head_hash) VALUES (1, :i, :h)"),
        {"i": head, "h": previous},
    )
    if sqlite:
        op.execute(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )
    else:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_replace")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    op.drop_table("identity")
    op.drop_table("audit_chain")
    op.drop_column("audit_log", "hash")
    op.drop_column("audit_log", "prev_hash")
