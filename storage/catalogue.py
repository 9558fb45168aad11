"""The catalogue's numbered versions: the highest is in force."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Column, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column


class CatalogueVersion(SQLModel, table=True):
    """A numbered version of the catalogue (JSON: areas and items); the highest is in force.
    Version 1 is seeded from the catalogue file; each adopted motion writes the next."""

    __tablename__ = "catalogue_version"

    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    data: str = Field(sa_column=Column(Text, nullable=False))
    motion: int | None = Field(default=None)  # the motion's number that made it
    note: str = Field(default="", max_length=500)
    created_at: datetime = Field(sa_column=utc_column())


class CatalogueStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def in_force(self) -> CatalogueVersion | None:
        query = select(CatalogueVersion).order_by(col(CatalogueVersion.version).desc()).limit(1)
        return await self._s.scalar(query)

    async def latest_number(self) -> int:
        return await self._s.scalar(select(func.max(col(CatalogueVersion.version)))) or 0

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
