"""The catalogue's numbered versions: the highest is in force."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CatalogueVersion


class CatalogueStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def in_force(self) -> CatalogueVersion | None:
        query = select(CatalogueVersion).order_by(CatalogueVersion.version.desc()).limit(1)
        return await self._s.scalar(query)

    async def latest_number(self) -> int:
        return await self._s.scalar(select(func.max(CatalogueVersion.version))) or 0

    async def add(
        self, data: dict, *, now: datetime, motion: int | None = None, note: str = ""
    ) -> CatalogueVersion:
        """The next version; a concurrent writer of the same number fails on the key."""
        row = CatalogueVersion(
            version=await self.latest_number() + 1,
            data=json.dumps(data, ensure_ascii=False, sort_keys=True),
            motion=motion,
            note=note[:500],
            created_at=now,
        )
        self._s.add(row)
        await self._s.flush()
        return row
