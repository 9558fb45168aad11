"""Notices for the chair about the committee's rooms, each told once."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column


class Notice(SQLModel, table=True):
    """Something the chair must hear about the committee's rooms (an alias that now points
    elsewhere, a room upgraded): written by the Matrix side, told once by a job."""

    __tablename__ = "notice"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    data: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    created_at: datetime = Field(sa_column=utc_column())
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class NoticeStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, kind: str, data: dict[str, Any], *, now: datetime) -> None:
        self._s.add(Notice(kind=kind, data=json.dumps(data), created_at=now))
        await self._s.flush()

    async def unsent(self) -> list[Notice]:
        query = select(Notice).where(col(Notice.sent_at).is_(None)).order_by(col(Notice.id))
        return list(await self._s.scalars(query))

    async def mark_sent(self, ids: list[int], *, now: datetime) -> None:
        if ids:
            await self._s.execute(
                update(Notice).where(col(Notice.id).in_(ids)).values(sent_at=now)
            )
