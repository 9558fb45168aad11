"""The lease two sites share on one PostgreSQL: only its holder handles, runs jobs and sends.

One row. A node claims it when it is free or has expired, and renews it while it acts; the
database's clock decides (`clock_timestamp()`), never the nodes' (two hosts' clocks differ).
Each change of holder raises `epoch`, so a take-over is told apart from a renewal. Every
statement runs on its own, in autocommit: no transaction of a node that freezes between two
statements can hold the row's lock and so keep the other node from taking over. See
bot/ha.py for the fencing. (SQLite, for tests on one host: the same rules, Python's clock.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import Field, SQLModel

from storage.columns import utc_column

NAME = "bot"


class Lease(SQLModel, table=True):
    __tablename__ = "ha_lease"

    name: str = Field(primary_key=True, max_length=16)
    holder: str = Field(max_length=64)
    epoch: int = 0
    since: datetime = Field(sa_column=utc_column())  # when this holder took it
    expires_at: datetime = Field(sa_column=utc_column())


@dataclass(frozen=True)
class Claim:
    """The lease as a claim left it: `ours` when this node holds it now; `taken_from` the
    node that held it before, when this claim took it over (None: renewed, or never held)."""

    holder: str
    epoch: int
    since: datetime
    expires_at: datetime
    ours: bool
    taken_from: str | None = None


# The row, made once by whichever node comes first.
CREATE = """INSERT INTO ha_lease (name, holder, epoch, since, expires_at)
VALUES (:name, '', 0, {now}, {now}) ON CONFLICT (name) DO NOTHING"""
# Renewed by its holder, or taken when free or expired; one statement, checked under the
# row's lock, so of two nodes trying at once one wins.
CLAIM = """{old}UPDATE ha_lease SET
    epoch = CASE WHEN ha_lease.holder = :node THEN ha_lease.epoch ELSE ha_lease.epoch + 1 END,
    since = CASE WHEN ha_lease.holder = :node THEN ha_lease.since ELSE {now} END,
    holder = :node,
    expires_at = {until}
{from_old}WHERE ha_lease.name = :name
  AND (ha_lease.holder = :node OR ha_lease.holder = '' OR ha_lease.expires_at < {now})
RETURNING ha_lease.holder, ha_lease.epoch, ha_lease.since, ha_lease.expires_at, {previous}"""
RELEASE = """UPDATE ha_lease SET expires_at = {now} WHERE name = :name AND holder = :node"""
READ = """SELECT holder, epoch, since, expires_at FROM ha_lease WHERE name = :name"""


def _sql(engine: AsyncEngine, statement: str) -> Any:
    if engine.dialect.name == "postgresql":
        return text(
            statement.format(
                now="clock_timestamp()",
                until="clock_timestamp() + make_interval(secs => :ttl)",
                old="WITH old AS (SELECT holder FROM ha_lease WHERE name = :name)\n",
                from_old="FROM old\n",
                previous="old.holder",
            )
        )
    # SQLite cannot return another table's column: the holder before is read beforehand
    # (one host, one writer at a time: nothing comes between).
    return text(
        statement.format(now=":now", until=":until", old="", from_old="", previous=":before")
    )


def _params(engine: AsyncEngine, **values: Any) -> dict[str, Any]:
    values["name"] = NAME
    if engine.dialect.name != "postgresql":  # one host: its clock is the database's
        now = datetime.now(UTC)
        values["now"] = now
        values["until"] = now + timedelta(seconds=values.get("ttl", 0))
    return values


def _when(value: Any) -> datetime:
    if isinstance(value, str):  # SQLite keeps text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@asynccontextmanager
async def _statements(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """PostgreSQL: each statement on its own (autocommit). SQLite (one host, and the bot's
    own BEGIN for writes): one transaction."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")
    else:
        async with engine.begin() as conn:
            yield conn


async def claim(engine: AsyncEngine, node: str, ttl: timedelta) -> Claim:
    """Hold the lease for `ttl` more, or take it if it is free or expired."""
    params = _params(engine, node=node, ttl=ttl.total_seconds())
    async with _statements(engine) as auto:
        await auto.execute(_sql(engine, CREATE), params)
        if engine.dialect.name != "postgresql":
            params["before"] = (await auto.execute(_sql(engine, READ), params)).one()[0]
        row = (await auto.execute(_sql(engine, CLAIM), params)).first()
        if row is not None:
            previous = row[4] if row[4] not in ("", node) else None
            return Claim(row[0], row[1], _when(row[2]), _when(row[3]), True, previous)
        held = (await auto.execute(_sql(engine, READ), params)).one()
    return Claim(held[0], held[1], _when(held[2]), _when(held[3]), False)


async def release(engine: AsyncEngine, node: str) -> bool:
    """Give the lease up at once (a clean stop): the standby need not wait it out."""
    params = _params(engine, node=node)
    async with _statements(engine) as auto:
        done = await auto.execute(_sql(engine, RELEASE), params)
    return bool(done.rowcount)


async def current(engine: AsyncEngine) -> Claim | None:
    async with engine.connect() as conn:
        row = (await conn.execute(_sql(engine, READ), _params(engine))).first()
    if row is None or not row[0]:
        return None
    return Claim(row[0], row[1], _when(row[2]), _when(row[3]), False)
