"""The log of digests posted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DigestLog


class DigestStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def record(
        self,
        *,
        period: str,
        room_id: str,
        requested_by: str,
        now: datetime,
        slot: datetime | None = None,
    ) -> DigestLog:
        entry = DigestLog(
            slot=slot, period=period, room_id=room_id, requested_by=requested_by, posted_at=now
        )
        self._s.add(entry)
        await self._s.flush()
        return entry

    async def previous(self, before: datetime, *, room_id: str) -> DigestLog | None:
        """The last digest posted in `room_id` before a moment: the baseline for "what
        changed" for that room's readers (a preview elsewhere does not move it)."""
        query = (
            select(DigestLog)
            .where(DigestLog.posted_at < before, DigestLog.room_id == room_id)
            .order_by(DigestLog.posted_at.desc())
            .limit(1)
        )
        return await self._s.scalar(query)

    async def slot_posted(self, slot: datetime) -> bool:
        return await self._s.scalar(select(DigestLog.id).where(DigestLog.slot == slot)) is not None
