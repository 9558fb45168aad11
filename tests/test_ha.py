"""Two sites on one PostgreSQL, in-process: the lease, the fencing clock, the config.

The take-over itself, with two bot processes and kills, is in tests/test_e2e_ha.py."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from bot.config import ConfigError, load_config
from bot.ha import MARGIN, LeaseKeeper
from bot.matrix.fence import fenced
from storage import lease
from tests.helpers import config_text

PG = "postgresql+asyncpg://rcc@127.0.0.1:5432/rcc"
LONG = timedelta(minutes=5)  # a lease that cannot run out during a test, however slow
SHORT = timedelta(milliseconds=50)  # one that runs out at once: waited for, never assumed


async def claim(db, node: str, ttl: timedelta = LONG):
    return await lease.claim(db.engine, node, ttl)


async def until(predicate, within: float = 30):
    deadline = time.monotonic() + within
    while not (found := await predicate()):
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.02)
    return found


async def test_one_holder_at_a_time_and_a_new_epoch_at_each_take_over(db):
    first = await claim(db, "a")
    assert first.ours and first.holder == "a" and first.epoch == 1 and first.taken_from is None
    refused = await claim(db, "b")
    assert not refused.ours and refused.holder == "a", "held and fresh: not taken"
    renewed = await claim(db, "a", SHORT)  # a's last renewal, before it falls silent
    assert renewed.ours and renewed.epoch == 1 and renewed.since == first.since

    async def b_takes():
        found = await claim(db, "b")
        return found if found.ours else None

    taken = await until(b_takes)  # once a's lease has run out, by the database's clock
    assert taken.epoch == 2 and taken.taken_from == "a" and taken.since >= renewed.expires_at
    assert not (await claim(db, "a")).ours, "the old holder cannot take it back while fresh"
    assert await lease.release(db.engine, "a") is False, "only the holder releases"
    assert await lease.release(db.engine, "b") is True
    again = await claim(db, "a")
    assert again.ours and again.taken_from == "b" and again.epoch == 3, "released: taken at once"
    seen = await lease.current(db.engine)
    assert seen is not None and seen.holder == "a" and not seen.ours


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_node_stops_acting_before_its_lease_can_expire(db):
    clock = Clock()
    keeper = LeaseKeeper(db, "a", timedelta(seconds=30), monotonic=clock)
    assert not keeper.acting() and keeper.role == "standby"
    await keeper.step()
    assert keeper.acting() and keeper.gained.is_set() and keeper.role == "active"
    # Its own clock says two thirds of the lease have passed without a renewal: it stops,
    # while the database would still keep the lease for another ten seconds.
    clock.now += 30 * MARGIN - 0.01
    assert keeper.acting()
    clock.now += 0.02
    assert not keeper.acting() and not keeper.lost.is_set()
    await keeper.step()  # a renewal that works: it acts again
    assert keeper.acting()
    other = LeaseKeeper(db, "b", timedelta(seconds=30), monotonic=clock)
    await other.step()
    assert not other.acting() and other.seen is not None and other.seen.holder == "a"


async def test_a_node_that_finds_another_holding_the_lease_never_acts_again(db):
    clock = Clock()
    keeper = LeaseKeeper(db, "a", SHORT, monotonic=clock)
    await keeper.step()
    assert keeper.acting()
    await until(lambda: _taken_by(db, "b"))  # as after a SIGSTOP longer than the lease
    clock.now += 0.01
    await keeper.step()
    assert keeper.lost.is_set() and not keeper.acting()
    with pytest.raises(Exception, match="lost the lease"):
        await keeper.run()
    await keeper.release()  # a node that lost it does not touch it
    assert (await lease.current(db.engine)).holder == "b"


async def _taken_by(db, node: str) -> bool:
    return (await claim(db, node)).ours


async def test_two_sites_need_postgresql_and_run_standby_sets_the_role(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(config_text("sqlite+aiosqlite:///data/rcc.db", extra='[ha]\nrole = "active"'))
    with pytest.raises(ConfigError, match=r"\[ha\] role: 'active' needs PostgreSQL"):
        load_config(path)
    path.write_text(config_text(PG, extra='[ha]\nnode = "site-b"\ntakeover_after = "10s"'))
    assert not load_config(path).ha.enabled
    standby = load_config(path, role="standby").ha
    assert standby.role == "standby" and standby.node == "site-b"
    assert standby.takeover_after == timedelta(seconds=10) and standby.enabled
    path.write_text(config_text(PG, extra='[ha]\nrole = "active"\ntakeover_after = "0s"'))
    with pytest.raises(ConfigError, match="takeover_after: '0s' must be longer than zero"):
        load_config(path)


async def test_preparing_is_one_node_at_a_time(db):
    if db.is_sqlite:
        pytest.skip("SQLite has one host: nothing to lock across")
    order: list[str] = []

    async def node(name: str, hold: asyncio.Event | None) -> None:
        async with db.exclusive("prepare"):
            order.append(f"{name} in")
            if hold is not None:
                await hold.wait()
            order.append(f"{name} out")

    hold = asyncio.Event()
    first = asyncio.create_task(node("a", hold))
    await until(lambda: _true(order))
    second = asyncio.create_task(node("b", None))

    async def b_waits() -> bool:  # b is at the lock, waiting for a
        async with db.engine.connect() as conn:
            waiting = await conn.exec_driver_sql(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
            return waiting.scalar() == 1

    await until(b_waits)
    assert order == ["a in"]
    hold.set()
    await asyncio.gather(first, second)
    assert order == ["a in", "a out", "b in", "b out"]


async def _true(value) -> bool:
    return bool(value)


async def test_a_url_of_several_hosts_finds_the_primary(pg_url):
    """As Patroni setups give it: the first host is down, the second is the primary."""
    from storage.db import Database

    user_host, name = pg_url.removeprefix("postgresql+asyncpg://").rsplit("/", 1)
    user, host = user_host.split("@")
    url = (
        f"postgresql+asyncpg://{user}@/{name}?host=127.0.0.1:1&host={host}"
        "&target_session_attrs=primary"
    )
    db = Database(url)
    try:
        assert await db.revision() is not None
        assert (await lease.claim(db.engine, "a", LONG)).ours
    finally:
        await db.close()


async def test_the_chair_hears_of_a_take_over_once_and_not_of_a_first_start(app, clock):
    from datetime import UTC, datetime

    from storage.lease import Claim
    from tests.helpers import CHAIR, Postman, body_of

    now = datetime(2026, 11, 2, 14, tzinfo=UTC)
    await app.taken_over("site-b", Claim("site-b", 1, now, now, True, None))  # a first start
    await app.taken_over("site-b", Claim("site-b", 1, now, now, True, "site-b"))  # itself
    await app.jobs.run("room notices", 0)
    assert not await Postman(app).deliver_all()
    await app.taken_over("site-b", Claim("site-b", 2, now, now, True, "site-a"))
    await app.jobs.run("room notices", 0)
    (told,) = [r for r in await Postman(app).deliver_all() if r.to_user == CHAIR]
    assert "node site-b acts now, node site-a stopped renewing its lease" in body_of(told)
    await app.jobs.run("room notices", 0)
    assert not await Postman(app).deliver_all(), "told once"


@pytest.mark.parametrize(
    ("method", "path", "refused"),
    [
        ("PUT", "/_matrix/client/v3/rooms/!r:hs/send/m.room.message/t1", True),
        ("PUT", "/_matrix/client/v3/rooms/!r:hs/state/m.room.pinned_events/", True),
        ("PUT", "/_matrix/client/r0/rooms/!r:hs/redact/$e/t2", True),
        ("POST", "/_matrix/client/v3/createRoom", True),
        ("POST", "/_matrix/client/v3/rooms/!r:hs/invite", True),
        ("PUT", "/_matrix/client/v3/user/%40bot%3Ahs/account_data/m.direct", True),
        ("POST", "/_matrix/media/v3/upload?filename=x.pdf", True),
        ("GET", "/_matrix/client/v3/sync?since=s1&timeout=30000", False),
        ("GET", "/_matrix/client/v3/rooms/!r:hs/messages?dir=b", False),
        ("POST", "/_matrix/client/v3/keys/upload", False),
        ("POST", "/_matrix/client/v3/keys/query", False),
        ("PUT", "/_matrix/client/v3/sendToDevice/m.room.encrypted/t3", False),
        ("POST", "/_matrix/client/v3/user/%40bot%3Ahs/filter", False),
    ],
)
def test_a_node_that_does_not_act_may_only_read_and_keep_its_own_keys(method, path, refused):
    assert fenced(method, path) is refused
