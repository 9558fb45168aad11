"""Lessons learnt: tagged, linkable to an incident, searchable by words."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column
from storage.counters import next_number
from storage.lists import member, pack
from storage.search import search
from storage.visibility import InFull


class Lesson(SQLModel, table=True):
    """A lesson learnt; `author` is empty when it was shared anonymously."""

    __tablename__ = "lesson"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    area: str | None = Field(default=None, max_length=32)
    tags: str = Field(default=",", max_length=500)
    incident: int | None = Field(default=None)  # the incident's number
    tlp: str = Field(max_length=16, index=True)  # what a reader may not see: counted
    author: str | None = Field(default=None, max_length=255)
    country: str | None = Field(default=None, max_length=2)
    origin_room: str = Field(max_length=255)
    said_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # heard by
    event_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_column=utc_column(index=True))
    withdrawn_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class LessonStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self,
        *,
        text: str,
        area: str | None,
        tags: list[str],
        incident: int | None,
        tlp: str,
        author: str | None,
        country: str | None,
        room_id: str,
        event_id: str | None,
        now: datetime,
        said_to: str | None = None,
    ) -> Lesson:
        """`author` None keeps the lesson anonymous (the audit log still knows)."""
        lesson = Lesson(
            number=await next_number(self._s, "lesson"),
            text=text,
            area=area,
            tags=pack(tags),
            incident=incident,
            tlp=tlp,
            author=author,
            country=country,
            origin_room=room_id,
            said_to=said_to,
            event_id=event_id,
            created_at=now,
        )
        self._s.add(lesson)
        await self._s.flush()
        return lesson

    async def get(self, number: int) -> Lesson | None:
        return await self._s.scalar(select(Lesson).where(col(Lesson.number) == number))

    async def find(
        self,
        *,
        in_full: InFull,
        area: str | None = None,
        tag: str | None = None,
        limit: int = 30,
    ) -> list[Lesson]:
        """Lessons the reader sees in full, newest first."""
        query = (
            select(Lesson)
            .where(in_full.clause(Lesson), col(Lesson.withdrawn_at).is_(None))
            .order_by(col(Lesson.number).desc())
            .limit(limit)
        )
        if area is not None:
            query = query.where(col(Lesson.area) == area)
        if tag is not None:
            query = query.where(col(Lesson.tags).like(member(tag), escape="\\"))
        return list(await self._s.scalars(query))

    async def search(self, words: str, *, in_full: InFull, limit: int = 20) -> list[Lesson]:
        """Lessons the reader sees in full that match every word, best first."""
        return await search(self._s, Lesson, ("text", "tags"), words, in_full, limit=limit)

    async def withheld(self, *, in_full: InFull) -> int:
        """How many lessons the reader does not see in full."""
        query = (
            select(func.count())
            .select_from(Lesson)
            .where(in_full.withheld(Lesson), col(Lesson.withdrawn_at).is_(None))
        )
        return await self._s.scalar(query) or 0

    async def created_between(self, start: datetime, end: datetime) -> list[Lesson]:
        query = (
            select(Lesson)
            .where(
                col(Lesson.created_at) >= start,
                col(Lesson.created_at) < end,
                col(Lesson.withdrawn_at).is_(None),
            )
            .order_by(col(Lesson.number))
        )
        return list(await self._s.scalars(query))
