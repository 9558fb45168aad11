"""Engine and unit-of-work factory: the only place that creates sessions."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.schema import HEAD
from storage.state import StateCache
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
    # A server connection can drop while idle, so PostgreSQL's are pinged before use; a SQLite
    # file cannot, and a ping there would cost a round trip on every command.
    sqlite = parsed.drivername.startswith("sqlite")
    # SQLite serialises writers anyway: a few connections (each a thread with its own page
    # cache) serve the bot; more would only cost memory.
    # Units always end in COMMIT or ROLLBACK, so the pool's own rollback on return would be a
    # wasted round trip on every command.
    pool = {"pool_size": 3, "max_overflow": 5, "pool_reset_on_return": None} if sqlite else {}
    engine = create_async_engine(
        url,
        connect_args=connect_args or {},
        pool_pre_ping=not sqlite,
        hide_parameters=True,
        **pool,
    )
    if sqlite and parsed.database and parsed.database != ":memory:":
        # The example config's data/rcc.db: its directory is made (for the bot's user alone)
        # rather than failing with "unable to open database file".
        Path(parsed.database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


async def upgrade_elsewhere(url: str) -> list[str]:
    """Run the migrations in a short-lived child process.

    Alembic and what it loads (Mako, Pygments) stay resident once imported, about 10 MB: the
    long-running bot leaves them to a child. The URL travels in the environment, not argv.
    """
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "storage.migrate",
        env={**os.environ, "RCC_MIGRATE_URL": url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await child.communicate()
    if child.returncode != 0:
        last = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"database migration failed: {last[0]}")
    return json.loads(out)


class Database:
    """Owns the engine; hands out units of work, each one transaction over all stores."""

    def __init__(self, url: str, *, connect_args: dict[str, Any] | None = None) -> None:
        self.url = url
        self.engine = create_engine(url, connect_args=connect_args)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        writer = self.engine.execution_options(rcc_write=True)
        self._write = async_sessionmaker(writer, expire_on_commit=False, class_=AsyncSession)
        self._read = async_sessionmaker(self.engine, expire_on_commit=False, class_=AsyncSession)
        self._roster_cache: dict = {}  # user -> Member | None; the roster changes rarely
        self._state_cache = StateCache()  # bot_state values, such as rooms' languages
        # Counts committed changes of pinned identities: whoever keeps them in memory
        # (bot.senders.PinBook) reads them again when it moved.
        self.identity_generation = 0
        self.roster_generation = 0  # the same for the roster

    @asynccontextmanager
    async def unit(self, *, write: bool = True) -> AsyncIterator[Stores]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        maker = self._write if write else self._read
        async with maker() as session:
            async with session.begin():
                stores = Stores(
                    session, roster_cache=self._roster_cache, state_cache=self._state_cache
                )
                yield stores
            if stores.roster_changed:
                self._roster_cache.clear()  # committed: readers since the change re-read
                self.roster_generation += 1
            if stores.state_written:
                self._state_cache.forget(stores.state_written)
            if stores.identities_changed:
                self.identity_generation += 1

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[None]:
        """One process at a time, across hosts, for the block (two sites on one PostgreSQL
        starting together migrate and seed once): a PostgreSQL advisory lock held on a
        connection of its own. SQLite has one host: nothing to take."""
        if self.is_sqlite:
            yield
            return
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql(f"SELECT pg_advisory_lock({key})")
            await conn.commit()
            try:
                yield
            finally:
                await conn.exec_driver_sql(f"SELECT pg_advisory_unlock({key})")
                await conn.commit()

    async def upgrade(self, *, isolated: bool = False) -> list[str]:
        """Apply pending migrations; returns the revisions applied.

        `isolated` runs them in a child process, keeping Alembic out of a long-running bot.
        """
        if await self.revision() == HEAD:
            return []  # current: no need to load Alembic (time and memory at every start)
        if isolated:
            return await upgrade_elsewhere(self.url)
        from storage.migrate import upgrade

        return await upgrade(self.engine)

    async def revision(self) -> str | None:
        """The schema revision recorded in the database (None when it has no schema yet)."""
        async with self.engine.connect() as conn:
            try:
                result = await conn.exec_driver_sql("SELECT version_num FROM alembic_version")
            except Exception:  # no table yet: a new database
                return None
            return result.scalar()

    def make_private(self) -> list[str]:
        """A SQLite database's files readable by the bot's user alone, also files made
        before (a umask only covers new ones). Returns directories others can still list."""
        if not self.is_sqlite or not self.engine.url.database:
            return []
        path = Path(self.engine.url.database)
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError, PermissionError):
                os.chmod(f"{path}{suffix}", 0o600)
        folder = path.parent.resolve()
        return [str(folder)] if folder.stat().st_mode & 0o077 else []

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
        return True

    async def close(self) -> None:
        await self.engine.dispose()
