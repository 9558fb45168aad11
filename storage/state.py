"""Named values the bot keeps between runs, such as the sync token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import BotState


class StateStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, key: str) -> str | None:
        row = await self._s.get(BotState, key)
        return row.value if row else None

    async def set(self, key: str, value: str, *, now: datetime) -> None:
        row = await self._s.get(BotState, key)
        if row is None:
            self._s.add(BotState(key=key, value=value, updated_at=now))
        else:
            row.value, row.updated_at = value, now
        await self._s.flush()
