"""Stores and migrations, on SQLite and (when RCC_TEST_DATABASE_URL is set) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import SQLModel

from storage import migrate
from storage.db import Database, UnsupportedDatabase
from storage.events import AlreadyHandled
from storage.roster import SeedEntry
from storage.stores import register_all
from tests.helpers import JM1

NOW = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def _not_search_index(diff) -> bool:
    # The full-text machinery (FTS5 tables, a GIN index on an expression) is built by the
    # migration in SQL the models cannot declare.
    name = getattr(diff[1], "name", "") or ""
    return "_fts" not in name


async def test_migrations_build_the_schema_the_models_declare(db: Database):
    register_all()  # every module of storage, a concept no list names included

    def diff(conn):
        found = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        return [d for d in found if _not_search_index(d)]

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
    assert await migrate.current(db.engine) == migrate.head()


async def test_upgrade_twice_applies_nothing(db: Database):
    assert await db.upgrade() == []


def test_schema_head_constant_matches_the_migrations():
    from storage.schema import HEAD

    assert migrate.head() == HEAD


async def test_sqlite_connection_settings(db: Database):
    if not db.is_sqlite:
        pytest.skip("SQLite pragmas")
    async with db.engine.connect() as conn:
        values = {
            p: (await conn.exec_driver_sql(f"PRAGMA {p}")).scalar()
            for p in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        }
    assert values == {
        "journal_mode": "wal",
        "synchronous": 2,
        "busy_timeout": 10000,
        "foreign_keys": 1,
    }


def test_unsupported_driver_is_refused():
    with pytest.raises(UnsupportedDatabase, match="'mysql\\+pymysql'"):
        Database("mysql+pymysql://x@y/z")


async def test_roster_add_member_remove(db: Database):
    async with db.unit() as store:
        await store.roster.add(
            user_id="@a:x", role="ncpoc", country="JM", added_by="@c:x", now=NOW
        )
        await store.roster.add(
            user_id="@a:x", role="admin", country=None, added_by="@c:x", now=NOW
        )
    async with db.unit(write=False) as store:
        member = await store.roster.member("@a:x")
        assert member.roles == {"ncpoc", "admin"} and member.country == "JM"
        assert await store.roster.count_ncpocs("JM") == 1
        assert await store.roster.member("@nobody:x") is None
        (entry,) = await store.roster.ncpocs("JM")
        assert entry.added_at == NOW  # timezone-aware UTC on every backend
    async with db.unit() as store:
        removed = await store.roster.remove("@a:x", "admin")
        assert [e.role for e in removed] == ["admin"]
    async with db.unit() as store:
        assert (await store.roster.member("@a:x")).roles == {"ncpoc"}


async def test_roster_role_is_unique_per_user(db: Database):
    with pytest.raises(IntegrityError):
        async with db.unit() as store:
            for _ in range(2):
                await store.roster.add(
                    user_id="@a:x", role="chair", country=None, added_by="t", now=NOW
                )
    async with db.unit() as store:
        assert await store.roster.member("@a:x") is None  # the whole unit rolled back


async def test_seed_applies_config_changes_once(db: Database):
    chair, jm = SeedEntry("@c:x", "chair", None), SeedEntry("@j:x", "ncpoc", "JM")
    async with db.unit() as store:
        first = await store.roster.apply_seed([chair, jm], now=NOW)
    assert first.added == [chair, jm] and first.removed == []
    # A command removes the NCPOC; the unchanged config must not bring them back.
    async with db.unit() as store:
        await store.roster.remove("@j:x")
        again = await store.roster.apply_seed([chair, jm], now=NOW)
        assert again.added == again.removed == []
        assert await store.roster.member("@j:x") is None
    # Dropping the chair from the config removes them; a new config entry is added.
    tt = SeedEntry("@t:x", "ncpoc", "TT")
    async with db.unit() as store:
        changed = await store.roster.apply_seed([jm, tt], now=NOW)
        assert changed.added == [tt] and changed.removed == [chair]
        assert await store.roster.member("@c:x") is None
        assert (await store.roster.member("@t:x")).country == "TT"


async def test_processed_event_is_exactly_once(db: Database):
    async with db.unit() as store:
        assert not await store.events.seen("$e1")
        await store.events.mark(event_id="$e1", room_id="!r", sender="@a:x", outcome="ok", now=NOW)
    async with db.unit() as store:
        assert await store.events.seen("$e1")
        assert await store.events.seen_among(["$e1", "$e2"]) == {"$e1"}
    with pytest.raises(AlreadyHandled):
        async with db.unit() as store:
            await store.events.mark(
                event_id="$e1", room_id="!r", sender="@a:x", outcome="ok", now=NOW
            )


async def test_the_same_ciphertext_under_another_event_id_is_already_handled(db: Database):
    """A replay: the encrypted message of $e1 sent again as $e2 (bot.matrix.replay)."""
    mark = partial(db_mark, room_id="!r", sender="@a:x", outcome="ok", now=NOW)
    async with db.unit() as store:
        await mark(store, event_id="$e1", ciphertext="SESSION:7")
        await mark(store, event_id="$p1")  # plain events carry none: many may
        await mark(store, event_id="$p2")
        await mark(store, event_id="$e3", ciphertext="SESSION:8")
    with pytest.raises(AlreadyHandled):
        async with db.unit() as store:
            await mark(store, event_id="$e2", ciphertext="SESSION:7")
    async with db.unit() as store:
        assert not await store.events.seen("$e2")


async def db_mark(store, **values):
    await store.events.mark(**values)


async def test_audit_log_is_append_only(db: Database):
    async with db.unit() as store:
        for n in range(3):
            await store.audit.record(
                actor="@a:x",
                action="roster add",
                outcome="accepted",
                now=NOW + timedelta(minutes=n),
                detail="x" * 2000,
            )
    async with db.unit(write=False) as store:
        entries = await store.audit.recent(limit=2)
    assert [e.at for e in entries] == [NOW + timedelta(minutes=2), NOW + timedelta(minutes=1)]
    assert len(entries[0].detail) == 1000
    for statement in ("UPDATE audit_log SET outcome = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.unit() as store:
                await store._session.execute(text(statement))
    async with db.unit(write=False) as store:
        assert len(await store.audit.recent()) == 3
    # The bot's own account cannot replace an entry, nor (PostgreSQL) empty the table.
    sneaky = (
        ["INSERT OR REPLACE INTO audit_log (id, at, actor, action, outcome, detail) "
         "VALUES (2, '2026-01-01 00:00:00', 'x', 'x', 'x', '')"]
        if db.is_sqlite
        else ["TRUNCATE audit_log"]
    )  # fmt: skip
    for statement in sneaky:
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.unit() as store:
                await store._session.execute(text(statement))


async def test_the_audit_chain_shows_an_entry_edited_behind_the_bots_back(db: Database):
    async with db.unit() as store:
        for n in range(5):
            await store.audit.record(
                actor="@a:x", action="roster add", outcome="accepted", now=NOW, detail=f"#{n}"
            )
    async with db.unit(write=False) as store:
        assert await store.audit.verify() == (5, None)
        head = await store.audit.head()
    assert head[0] == 5
    # Someone with the database owner's rights lifts the guard and edits entry 3.
    async with db.unit() as store:
        if db.is_sqlite:
            await store._session.execute(text("DROP TRIGGER audit_log_no_update"))
        else:
            await store._session.execute(
                text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
            )
        await store._session.execute(text("UPDATE audit_log SET detail = 'x' WHERE id = 3"))
    async with db.unit(write=False) as store:
        assert await store.audit.verify() == (2, 3)


async def test_naive_datetimes_are_refused(db: Database):
    with pytest.raises(Exception, match="naive datetime"):
        async with db.unit() as store:
            await store.audit.record(actor="a", action="b", outcome="c", now=datetime(2026, 1, 1))


async def test_roster_cache_follows_committed_changes(db: Database):
    async with db.unit(write=False) as store:
        assert await store.roster.member("@new:x") is None  # cached as "not on the roster"
    async with db.unit() as store:
        await store.roster.add(user_id="@new:x", role="chair", country=None, added_by="t", now=NOW)
    async with db.unit(write=False) as store:
        assert (await store.roster.member("@new:x")).roles == {"chair"}
    with pytest.raises(RuntimeError):
        async with db.unit() as store:
            await store.roster.remove("@new:x")
            raise RuntimeError("rolled back")
    async with db.unit(write=False) as store:
        assert (await store.roster.member("@new:x")).roles == {"chair"}


# The grants the README gives for the bot's runtime role on PostgreSQL (after the owner ran
# the migrations): everything it needs, and on the audit log only reading and appending.
RUNTIME_GRANTS = """
GRANT USAGE ON SCHEMA {schema} TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role};
REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.audit_log FROM {role};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role};
"""


async def test_the_runtime_role_can_only_append_to_the_audit_log(backend, db: Database):
    if backend.name != "postgres":
        pytest.skip("roles and grants are PostgreSQL's")
    import uuid

    import asyncpg

    schema = backend.connect_args["server_settings"]["search_path"]
    role = f"rcc_runtime_{uuid.uuid4().hex[:8]}"
    owner = await asyncpg.connect(backend.url.replace("postgresql+asyncpg://", "postgresql://"))
    await owner.execute(f"CREATE ROLE {role} LOGIN")
    await owner.execute(RUNTIME_GRANTS.format(schema=schema, role=role))
    url = backend.url.replace("postgres@", f"{role}@", 1)
    runtime = Database(url, connect_args=backend.connect_args)
    try:
        await runtime.upgrade()  # up to date: the bot starts with this role
        async with runtime.unit() as store:
            await store.audit.record(actor="@a:x", action="roster add", outcome="ok", now=NOW)
            await store.roster.add(
                user_id="@jm1:x", role="ncpoc", country="JM", added_by="@c:x", now=NOW
            )
        for statement in (
            "TRUNCATE audit_log",
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
            "UPDATE audit_log SET detail = 'x'",
            "DELETE FROM audit_log",
            "DROP TRIGGER audit_log_no_truncate ON audit_log",
        ):
            with pytest.raises(DBAPIError, match=r"permission denied|must be owner"):
                async with runtime.unit() as store:
                    await store._session.execute(text(statement))
        async with runtime.unit(write=False) as store:
            assert await store.audit.verify() == (1, None)
    finally:
        await runtime.close()
        await owner.execute(f"DROP OWNED BY {role}")
        await owner.execute(f"DROP ROLE {role}")
        await owner.close()


async def test_state_values_are_read_once_and_forgotten_when_set(db: Database):
    """A value read on every command (a room's language) costs no transaction once read; a
    committed change is seen by the next unit, a rolled-back one never."""
    async with db.unit(write=False) as store:
        assert await store.state.get("language:!r") is None
    async with db.unit() as store:  # behind the cache's back: the cache still answers
        await store._session.execute(
            text(
                "INSERT INTO bot_state (key, value, updated_at) VALUES ('language:!r', 'fr', :t)"
            ),
            {"t": NOW},
        )
    async with db.unit(write=False) as store:
        assert await store.state.get("language:!r") is None  # cached: no query
    async with db.unit() as store:
        await store.state.set("language:!r", "nl", now=NOW)
        assert await store.state.get("language:!r") == "nl"  # its own write, read back
    async with db.unit(write=False) as store:
        assert await store.state.get("language:!r") == "nl"  # the commit was forgotten
    with pytest.raises(RuntimeError):
        async with db.unit() as store:
            await store.state.set("language:!r", "es", now=NOW)
            raise RuntimeError("rolled back")
    async with db.unit(write=False) as store:
        assert await store.state.get("language:!r") == "nl"
    # A unit that began before a commit which set something does not fill the cache.
    async with db.unit(write=False) as early:
        async with db.unit() as store:
            await store.state.set("language:!s", "es", now=NOW)
        await early.state.get("language:!t")
    assert "language:!t" not in db._state_cache.values


async def test_a_concept_no_list_names_gets_its_store_from_the_unit(db: Database):
    """A new family's store needs no line in storage/stores.py: `store.of(Kind)` gives one
    per unit of work, in its transaction."""
    from storage.counters import next_number

    class Tally:
        def __init__(self, session) -> None:
            self.session = session

        async def next(self) -> int:
            return await next_number(self.session, "tally")

    async with db.unit() as store:
        assert store.of(Tally) is store.of(Tally)
        first, second = await store.of(Tally).next(), await store.of(Tally).next()
    assert (first, second) == (1, 2)
    async with db.unit() as store:
        assert await store.of(Tally).next() == 3, "written in the unit's transaction"


async def test_a_counter_name_too_long_for_postgresql_is_refused_on_every_backend():
    from storage.counters import next_number

    with pytest.raises(ValueError, match="longer than 16"):  # before any database is asked
        await next_number(None, "stakeholder_input")  # type: ignore[arg-type]


async def test_the_current_status_follows_every_update_and_undo_and_is_built_from_history(
    db: Database,
):
    from alembic import command
    from sqlalchemy import insert

    from storage.migrate import _config
    from storage.status import StatusUpdate

    at = datetime(2026, 12, 7, tzinfo=UTC)

    async def latest(country=None) -> dict:
        async with db.unit(write=False) as store:
            return {(u.country, u.item_id): u.state for u in await store.status.latest(country)}

    async def record(country: str, item: str, state: str) -> int:
        async with db.unit() as store:
            return await store.status.record(
                country=country, item_id=item, state=state, note="", author=JM1,
                event_id=None, now=at,
            )  # fmt: skip

    await record("JM", "legal.strategy", "in-progress")
    met = await record("JM", "legal.strategy", "met")
    await record("TT", "legal.strategy", "met")
    only = await record("JM", "legal.policy", "in-progress")
    assert await latest() == {
        ("JM", "legal.strategy"): "met", ("TT", "legal.strategy"): "met",
        ("JM", "legal.policy"): "in-progress",
    }  # fmt: skip
    for undone in (met, only):
        async with db.unit() as store:
            update = await store.status.get(undone)
            assert update is not None
            await store.status.undo(update, now=at)
    assert await latest("JM") == {("JM", "legal.strategy"): "in-progress"}
    # A database from before the table: its history is read into it by the migration.
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda c: command.downgrade(_config(c), "0033"))
        await conn.execute(
            insert(StatusUpdate),
            [{"country": "BB", "item_id": "legal.strategy", "state": s, "note": "",
              "author": JM1, "at": at} for s in ("in-progress", "met")],
        )  # fmt: skip
    assert await db.upgrade() == ["0034", "0035", "0036"]
    assert await latest() == {
        ("JM", "legal.strategy"): "in-progress", ("TT", "legal.strategy"): "met",
        ("BB", "legal.strategy"): "met",
    }  # fmt: skip


async def test_a_units_own_failing_write_is_not_taken_for_a_duplicate_event(db: Database):
    """Marking flushes the unit's pending writes first: their IntegrityError stays theirs
    (a listener's bug is logged as a failure, not dropped as an event handled before)."""
    with pytest.raises(IntegrityError):
        async with db.unit() as store:
            add = partial(store.roster.add, user_id="@a:x", country=None, added_by="t", now=NOW)
            await add(role="chair")
            second = await add(role="steering")
            second.role = "chair"  # one role per person: refused when it is written
            await store.events.mark(
                event_id="$e", room_id="!r", sender="@a:x", outcome="ok", now=NOW
            )
