"""Encrypted events the bot could not read yet, kept so they are retried after a restart."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column


class UndecryptedEvent(SQLModel, table=True):
    """An encrypted event the bot could not read yet; retried when its key arrives."""

    __tablename__ = "undecrypted_event"

    event_id: str = Field(max_length=255, primary_key=True)
    room_id: str = Field(max_length=255)
    sender: str = Field(max_length=255)
    session_id: str = Field(max_length=255)
    # The encrypted event as JSON: it carries no plaintext.
    source: str = Field(sa_column=Column(Text, nullable=False))
    first_seen: datetime = Field(sa_column=utc_column())
    notified_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class UndecryptedStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self,
        *,
        event_id: str,
        room_id: str,
        sender: str,
        session_id: str,
        source: str,
        now: datetime,
    ) -> None:
        """Remember an event (once: a second add of the same event is ignored)."""
        if await self._s.get(UndecryptedEvent, event_id) is None:
            self._s.add(
                UndecryptedEvent(
                    event_id=event_id,
                    room_id=room_id,
                    sender=sender,
                    session_id=session_id,
                    source=source,
                    first_seen=now,
                )
            )
            await self._s.flush()

    async def count_from(self, sender: str) -> int:
        query = select(func.count()).where(col(UndecryptedEvent.sender) == sender)
        return int(await self._s.scalar(query) or 0)

    async def all(self) -> list[UndecryptedEvent]:
        query = select(UndecryptedEvent).order_by(col(UndecryptedEvent.first_seen))
        return list(await self._s.scalars(query))

    async def remove(self, event_ids: list[str]) -> None:
        if event_ids:
            await self._s.execute(
                delete(UndecryptedEvent).where(col(UndecryptedEvent.event_id).in_(event_ids))
            )

    async def mark_notified(self, event_ids: list[str], *, now: datetime) -> None:
        if event_ids:
            await self._s.execute(
                update(UndecryptedEvent)
                .where(col(UndecryptedEvent.event_id).in_(event_ids))
                .values(notified_at=now)
            )
