"""The audit log: append-only (the store has no update or delete, the database refuses them)
and hash-chained (storage.chain), so that what was changed behind the bot's back shows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.chain import FIELDS, GENESIS, entry_hash
from storage.columns import table_of, utc_column


class AuditEntry(SQLModel, table=True):
    """Append-only record of every command, refusal, broadcast, reminder and digest."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=utc_column(index=True))
    actor: str = Field(max_length=255, index=True)
    action: str = Field(max_length=64)
    outcome: str = Field(max_length=16)
    room_id: str | None = Field(default=None, max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    detail: str = Field(default="", max_length=1000)
    prev_hash: str | None = Field(default=None, max_length=64)  # see storage.chain
    hash: str | None = Field(default=None, max_length=64)


class AuditChain(SQLModel, table=True):
    """The head of the audit log's hash chain: one row, locked by each writer in turn."""

    __tablename__ = "audit_chain"

    id: int = Field(primary_key=True)
    head_id: int
    head_hash: str = Field(max_length=64)


DETAIL_LIMIT = 1000
_INSERT = table_of(AuditEntry).insert()
_CHAIN = table_of(AuditChain)
_HEAD = select(_CHAIN.c.head_id, _CHAIN.c.head_hash).where(_CHAIN.c.id == 1).with_for_update()
_MOVE_HEAD = (
    _CHAIN.update()
    .where(_CHAIN.c.id == 1)
    .values(head_id=bindparam("head"), head_hash=bindparam("hash"))
)


class AuditStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def record(
        self,
        *,
        actor: str,
        action: str,
        outcome: str,
        now: datetime,
        room_id: str | None = None,
        event_id: str | None = None,
        detail: str = "",
    ) -> None:
        """Append one entry; `detail` must never carry TLP:RED text or secrets."""
        # The chain's head row is locked first (PostgreSQL; SQLite writers are serialised
        # anyway), so entries are chained one after another.
        head = (await self._s.execute(_HEAD)).one()
        row = {
            "id": head.head_id + 1,
            "at": now,
            "actor": actor,
            "action": action,
            "outcome": outcome,
            "room_id": room_id,
            "event_id": event_id,
            "detail": detail[:DETAIL_LIMIT],
        }
        digest = entry_hash(head.head_hash, row)
        # Plain statements, built once: every command writes one, and needs no ORM object.
        await self._s.execute(_INSERT, row | {"prev_hash": head.head_hash, "hash": digest})
        await self._s.execute(_MOVE_HEAD, {"head": row["id"], "hash": digest})

    async def head(self) -> tuple[int, str]:
        """The newest entry's number and hash: what an outside copy anchors."""
        head = (await self._s.execute(select(AuditChain))).scalar_one()
        return head.head_id, head.head_hash

    async def verify(self, *, batch: int = 5000) -> tuple[int, int | None]:
        """Walk the chain; returns how many entries were checked and the first that does
        not match (None: all do, up to the recorded head)."""
        previous, checked, last = GENESIS, 0, 0
        while True:
            query = (
                select(AuditEntry)
                .where(col(AuditEntry.id) > last)
                .order_by(col(AuditEntry.id))
                .limit(batch)
            )
            rows = list(await self._s.scalars(query))
            for entry in rows:
                fields = {name: getattr(entry, name) for name in FIELDS}
                if (
                    entry.id != last + 1
                    or entry.prev_hash != previous
                    or entry.hash != entry_hash(previous, fields)
                ):
                    return checked, entry.id
                previous, last, checked = entry.hash, entry.id, checked + 1
            if len(rows) < batch:
                break
        head_id, head_hash = await self.head()
        if (head_id, head_hash) != (last, previous):
            return checked, last + 1  # entries after `last` were removed
        return checked, None

    async def recent(self, *, limit: int = 50, actor: str | None = None) -> list[AuditEntry]:
        """Newest first."""
        query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
        if actor is not None:
            query = query.where(col(AuditEntry.actor) == actor)
        return list(await self._s.scalars(query))
