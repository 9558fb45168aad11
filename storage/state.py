"""Named values the bot keeps between runs, such as the sync token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from storage.columns import utc_column


class BotState(SQLModel, table=True):
    """Small named values the bot keeps between runs (the sync token)."""

    __tablename__ = "bot_state"

    key: str = Field(max_length=64, primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_column=utc_column())


class StateCache:
    """Values read by earlier units of one Database, so that a value read on every command
    (a room's language) costs no transaction. A committed `set` forgets its key; a unit that
    began before a commit which set anything does not fill the cache (it may have read from
    an older snapshot)."""

    MOST = 1000  # values kept; the cache starts over beyond that

    def __init__(self) -> None:
        self.values: dict[str, str | None] = {}
        self.generation = 0

    def forget(self, keys: set[str]) -> None:
        for key in keys:
            self.values.pop(key, None)
        self.generation += 1


class StateStore:
    def __init__(
        self, session: AsyncSession, cache: StateCache | None = None, *, began: int = 0
    ) -> None:
        self._s = session
        self._cache = cache
        self._born = began  # the cache's generation when the unit began
        self.written: set[str] = set()  # keys this unit set: read from the database

    async def get(self, key: str) -> str | None:
        cache = self._cache
        if cache is not None and key not in self.written and key in cache.values:
            return cache.values[key]
        row = await self._s.get(BotState, key)
        value = row.value if row else None
        if cache is not None and key not in self.written and cache.generation == self._born:
            if len(cache.values) >= cache.MOST:
                cache.values.clear()
            cache.values[key] = value
        return value

    async def set(self, key: str, value: str, *, now: datetime) -> None:
        self.written.add(key)
        row = await self._s.get(BotState, key)
        if row is None:
            self._s.add(BotState(key=key, value=value, updated_at=now))
        else:
            row.value, row.updated_at = value, now
        await self._s.flush()
