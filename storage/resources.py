"""National resources and expertise."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column
from storage.counters import next_number
from storage.search import search
from storage.visibility import InFull


class Resource(SQLModel, table=True):
    """National resources and expertise: people, tools, labs, training."""

    __tablename__ = "resource"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    kind: str = Field(max_length=16, index=True)
    country: str | None = Field(default=None, max_length=2, index=True)
    item: str | None = Field(default=None, max_length=64, index=True)  # the item it helps with
    description: str = Field(sa_column=Column(Text, nullable=False))
    tlp: str = Field(max_length=16, index=True)  # what a reader may not see: counted
    author: str = Field(max_length=255)
    origin_room: str = Field(max_length=255)
    said_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # heard by
    event_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_column=utc_column(index=True))
    withdrawn_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class ResourceStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self,
        *,
        kind: str,
        country: str | None,
        description: str,
        tlp: str,
        author: str,
        room_id: str,
        event_id: str | None,
        now: datetime,
        said_to: str | None = None,
        item: str | None = None,
    ) -> Resource:
        resource = Resource(
            number=await next_number(self._s, "resource"),
            kind=kind,
            country=country,
            item=item,
            description=description,
            tlp=tlp,
            author=author,
            origin_room=room_id,
            said_to=said_to,
            event_id=event_id,
            created_at=now,
        )
        self._s.add(resource)
        await self._s.flush()
        return resource

    async def get(self, number: int) -> Resource | None:
        return await self._s.scalar(select(Resource).where(col(Resource.number) == number))

    async def find(
        self,
        *,
        in_full: InFull,
        kind: str | None = None,
        country: str | None = None,
        item: str | None = None,
        limit: int = 50,
    ) -> list[Resource]:
        """Resources the reader sees in full, newest first."""
        query = (
            select(Resource)
            .where(in_full.clause(Resource), col(Resource.withdrawn_at).is_(None))
            .order_by(col(Resource.number).desc())
            .limit(limit)
        )
        if kind is not None:
            query = query.where(col(Resource.kind) == kind)
        if country is not None:
            query = query.where(col(Resource.country) == country)
        if item is not None:
            query = query.where(col(Resource.item) == item)
        return list(await self._s.scalars(query))

    async def search(self, words: str, *, in_full: InFull, limit: int = 20) -> list[Resource]:
        """Resources the reader sees in full that match every word, best first."""
        columns = ("description", "kind")
        return await search(self._s, Resource, columns, words, in_full, limit=limit)

    async def withheld(self, *, in_full: InFull) -> int:
        """How many resources the reader does not see in full."""
        query = (
            select(func.count())
            .select_from(Resource)
            .where(in_full.withheld(Resource), col(Resource.withdrawn_at).is_(None))
        )
        return await self._s.scalar(query) or 0

    async def created_between(self, start: datetime, end: datetime) -> list[Resource]:
        query = (
            select(Resource)
            .where(
                col(Resource.created_at) >= start,
                col(Resource.created_at) < end,
                col(Resource.withdrawn_at).is_(None),
            )
            .order_by(col(Resource.number))
        )
        return list(await self._s.scalars(query))
