"""Shared fixtures: databases on every backend, a configured app, a recording reply channel."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers import FakeClock, Rooms, write_config

PG_URL = os.environ.get("RCC_TEST_DATABASE_URL")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pytest_collection_modifyitems(config, items):
    if PG_URL:
        return
    skip = pytest.mark.skip(reason="RCC_TEST_DATABASE_URL is not set")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


class Backend:
    """A database URL plus the connect arguments that isolate one test on it."""

    def __init__(self, name: str, url: str, connect_args: dict | None = None) -> None:
        self.name, self.url, self.connect_args = name, url, connect_args or {}


@pytest.fixture(params=BACKENDS)
async def backend(request, tmp_path: Path) -> AsyncIterator[Backend]:
    """An empty database: a fresh SQLite file, or a fresh schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'rcc.db'}")
        return
    import asyncpg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    await conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield Backend("postgres", PG_URL, {"server_settings": {"search_path": schema}})
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


@pytest.fixture
async def db(backend: Backend):
    """A migrated database on each backend."""
    from storage.db import Database

    database = Database(backend.url, connect_args=backend.connect_args)
    await database.upgrade()
    yield database
    await database.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 2, 14, 0, tzinfo=UTC))


@pytest.fixture
async def make_app(backend: Backend, tmp_path: Path, clock: FakeClock):
    """Builds the bot's core on a test config (plus `extra` TOML), migrated and seeded: what
    commands and jobs write goes to the outbox table (no homeserver); rooms are a plain dict
    the test may fill."""
    from bot.app import App, prepare
    from bot.config import load_config
    from bot.faults import CrashPoints
    from commands.framework import BotIdentity
    from storage.db import Database

    made = []

    async def make(extra: str = "", **kwargs):
        config = load_config(write_config(tmp_path, backend.url, extra=extra, **kwargs))
        db = Database(backend.url, connect_args=backend.connect_args)
        made.append(db)
        await prepare(db, config, clock)
        rooms = Rooms()
        app = App(
            config,
            db=db,
            clock=clock,
            rooms={},
            facts=rooms.facts,
            identity=BotIdentity("@rccbot:test.org", "RCCBOTTEST"),
            submit=lambda rows: None,
            faults=CrashPoints(),
            exists=rooms.exists,
            joined=rooms.joined,
        )
        app.test_rooms = rooms  # type: ignore[attr-defined]  # the test's hand on the rooms
        return app

    yield make
    for db in made:
        await db.close()


@pytest.fixture
async def app(make_app):
    return await make_app()


@pytest.fixture(scope="session")
def synapse(tmp_path_factory):
    """One Synapse for the whole session; tests get fresh users and rooms."""
    from devkit.synapse import Synapse

    hs = Synapse(tmp_path_factory.mktemp("synapse"))
    hs.start()
    yield hs
    hs.stop()


@pytest.fixture
async def world(request, synapse, tmp_path):
    from tests.world import World

    scene = World(synapse, tmp_path)
    marker = request.node.get_closest_marker("timeout")
    timeout = marker.args[0] if marker else float(request.config.getini("timeout"))
    watchdog = asyncio.create_task(_dump_tasks_after(timeout - 60))
    yield scene
    watchdog.cancel()
    await scene.close()


async def _dump_tasks_after(seconds: float) -> None:
    """Before pytest-timeout kills a stuck test, show where every coroutine waits."""
    await asyncio.sleep(seconds)
    for task in asyncio.all_tasks():
        print(f"--- task {task.get_name()}", file=sys.stderr)
        task.print_stack(file=sys.stderr)


@pytest.fixture(autouse=True)
def _umask_restored():
    """`rcc-bot` sets umask 077 for its own process; a test calling its main() gets it back."""
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)
