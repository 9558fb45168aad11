"""Shared fixtures: databases on every backend, a configured app, a recording reply channel."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers import FakeClock, Rooms, write_config

pytest_plugins = ["tests.ordering"]

PG_URL = os.environ.get("RCC_TEST_DATABASE_URL")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pytest_collection_modifyitems(config, items):
    if PG_URL:
        return
    skip = pytest.mark.skip(reason="RCC_TEST_DATABASE_URL is not set")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The run ends by saying what it left out, why, and how to include it."""
    skipped = terminalreporter.stats.get("skipped", [])
    reasons: dict[str, int] = {}
    for report in skipped:
        said = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = said.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if not reasons:
        return
    write = terminalreporter.write_line
    write("")
    for reason, count in sorted(reasons.items(), key=lambda r: -r[1]):
        write(f"skipped {count}: {reason}")
    if not PG_URL:
        write(
            "to run the PostgreSQL variants too: RCC_TEST_DATABASE_URL="
            "postgresql+asyncpg://postgres@127.0.0.1:5432/test make test"
        )


class Backend:
    """A database URL plus the connect arguments that isolate one test on it."""

    def __init__(self, name: str, url: str, connect_args: dict | None = None) -> None:
        self.name, self.url, self.connect_args = name, url, connect_args or {}


class Templates:
    """Databases migrated once per test process, copied for each test: running the Alembic
    chain for every test cost 0.15–0.35 s each (a SQLite file copy takes a millisecond, a
    PostgreSQL `CREATE DATABASE … TEMPLATE` about 40 ms). Built on first use."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sqlite: Path | None = None
        self.postgres: str | None = None  # a database name on the server of PG_URL
        self.copies: list[str] = []  # the tests' PostgreSQL databases, dropped at the end

    async def sqlite_file(self) -> Path:
        if self.sqlite is None:
            from storage.db import Database

            path = self.folder / "template.db"
            database = Database(f"sqlite+aiosqlite:///{path}")
            await database.upgrade()
            await database.close()  # the last connection out checkpoints the WAL into the file
            self.sqlite = path
        return self.sqlite

    async def postgres_database(self, conn) -> str:
        if self.postgres is None:
            from storage.db import Database

            name = f"rcc_template_{uuid.uuid4().hex[:12]}"
            await conn.execute(f"CREATE DATABASE {name}")
            database = Database(_on(PG_URL, name))
            await database.upgrade()
            await database.close()  # a template must have no connection when it is copied
            self.postgres = name
        return self.postgres


def _on(url: str, database: str) -> str:
    """The same server's URL for another database."""
    return url.rsplit("/", 1)[0] + "/" + database


@pytest.fixture(scope="session")
def templates(tmp_path_factory) -> Iterator[Templates]:
    made = Templates(tmp_path_factory.mktemp("templates"))
    yield made
    # Dropped together at the end, by a detached process the session does not wait for:
    # each DROP DATABASE forces a checkpoint, which took seconds after every test under the
    # other workers' writes, and up to two minutes for a worker's hundreds at its end.
    names = made.copies + ([made.postgres] if made.postgres else [])
    if names:
        dropper = subprocess.Popen(
            [sys.executable, "-m", "tests.dropdbs"], stdin=subprocess.PIPE, text=True,
            cwd=Path(__file__).resolve().parents[1], start_new_session=True,
        )  # fmt: skip
        assert dropper.stdin is not None
        dropper.stdin.write("\n".join(names))
        dropper.stdin.close()


@pytest.fixture(params=BACKENDS)
async def backend(request, tmp_path: Path, templates: Templates) -> AsyncIterator[Backend]:
    """A database at the newest schema revision, the test's own: a copy of a migrated SQLite
    file, or a PostgreSQL database made from a migrated template."""
    if request.param == "sqlite":
        path = tmp_path / "rcc.db"
        shutil.copyfile(await templates.sqlite_file(), path)
        yield Backend("sqlite", f"sqlite+aiosqlite:///{path}")
        return
    yield Backend(
        "postgres", await _pg_copy(templates), {"server_settings": {"search_path": "public"}}
    )


async def _pg_copy(templates: Templates) -> str:
    """A fresh PostgreSQL database at the newest revision, made from the migrated template."""
    import asyncpg

    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        template = await templates.postgres_database(conn)
        await conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        templates.copies.append(name)
    finally:
        await conn.close()
    return _on(PG_URL, name)


@pytest.fixture
async def pg_url(templates: Templates) -> str:
    """A fresh PostgreSQL database's URL, for what only PostgreSQL can do (two sites)."""
    if PG_URL is None:
        pytest.skip("RCC_TEST_DATABASE_URL is not set")
    return await _pg_copy(templates)


@pytest.fixture
async def db(backend: Backend):
    """A migrated database on each backend (the upgrade finds it current: a no-op)."""
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
