"""Alembic environment: always runs on a connection handed in by `storage.migrate`."""

from alembic import context
from sqlmodel import SQLModel

from storage.stores import register_all

register_all()  # every concept's tables, on SQLModel.metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `rcc-bot db upgrade`, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds the table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
