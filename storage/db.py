"""Engine and unit-of-work factory: the only place that creates sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.stores import Stores

SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
SQLITE_BUSY_TIMEOUT_MS = 10_000


class UnsupportedDatabase(ValueError):
    """The storage URL names a driver the bot does not support."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Set per connection: these pragmas do not persist in the database file (except WAL).
    # isolation_level=None hands BEGIN to SQLAlchemy (see _sqlite_begin), so SAVEPOINT and
    # transactional DDL behave; the legacy sqlite3 mode would skip BEGIN for SELECT and DDL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=FULL",
        f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        "foreign_keys=ON",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A write unit takes the write lock up front, so it waits on busy_timeout instead of
    # failing with "database is locked" when a deferred read transaction tries to upgrade.
    write = conn.get_execution_options().get("rcc_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def create_engine(url: str, *, connect_args: dict[str, Any] | None = None) -> AsyncEngine:
    """An async engine for a supported URL, with SQLite tuned for durability."""
    parsed = make_url(url)
    if parsed.drivername not in SUPPORTED_DRIVERS:
        drivers = ", ".join(SUPPORTED_DRIVERS)
        raise UnsupportedDatabase(f"storage url uses {parsed.drivername!r}; expected {drivers}")
    # hide_parameters: SQL parameters (user text) never appear in exception messages or logs.
    engine = create_async_engine(
        url, connect_args=connect_args or {}, pool_pre_ping=True, hide_parameters=True
    )
    if parsed.drivername.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


class Database:
    """Owns the engine; hands out units of work, each one transaction over all stores."""

    def __init__(self, url: str, *, connect_args: dict[str, Any] | None = None) -> None:
        self.url = url
        self.engine = create_engine(url, connect_args=connect_args)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        writer = self.engine.execution_options(rcc_write=True)
        self._write = async_sessionmaker(writer, expire_on_commit=False, class_=AsyncSession)
        self._read = async_sessionmaker(self.engine, expire_on_commit=False, class_=AsyncSession)

    @asynccontextmanager
    async def unit(self, *, write: bool = True) -> AsyncIterator[Stores]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        maker = self._write if write else self._read
        async with maker() as session, session.begin():
            yield Stores(session)

    async def upgrade(self) -> list[str]:
        """Apply pending migrations; returns the revisions applied."""
        from storage.migrate import upgrade  # Alembic is only needed at start-up

        return await upgrade(self.engine)

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
        return True

    async def close(self) -> None:
        await self.engine.dispose()
