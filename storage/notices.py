"""Notices for the chair about the committee's rooms, each told once."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Notice


class NoticeStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, kind: str, data: dict[str, Any], *, now: datetime) -> None:
        self._s.add(Notice(kind=kind, data=json.dumps(data), created_at=now))
        await self._s.flush()

    async def unsent(self) -> list[Notice]:
        query = select(Notice).where(Notice.sent_at.is_(None)).order_by(Notice.id)
        return list(await self._s.scalars(query))

    async def mark_sent(self, ids: list[int], *, now: datetime) -> None:
        if ids:
            await self._s.execute(update(Notice).where(Notice.id.in_(ids)).values(sent_at=now))
