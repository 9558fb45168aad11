"""Runs the numbered Alembic migrations in `storage/migrations` against an async engine."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection) -> list[str]:
    config = _config(connection)
    before = _current(connection)
    command.upgrade(config, "head")
    after = _current(connection)
    script = ScriptDirectory.from_config(config)
    if before == after:
        return []
    applied = [rev.revision for rev in script.iterate_revisions(after, before)]
    return list(reversed(applied))


async def upgrade(engine: AsyncEngine) -> list[str]:
    """Bring the schema to the newest revision, in one transaction; returns revisions applied."""
    async with engine.begin() as conn:
        return await conn.run_sync(_upgrade)


def head() -> str:
    """The newest revision shipped with this code."""
    head_rev = ScriptDirectory.from_config(_config()).get_current_head()
    assert head_rev is not None
    return head_rev


async def _main() -> None:
    from storage.db import create_engine

    engine = create_engine(os.environ["RCC_MIGRATE_URL"])
    try:
        print(json.dumps(await upgrade(engine)))
    finally:
        await engine.dispose()


async def current(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


if __name__ == "__main__":
    asyncio.run(_main())
