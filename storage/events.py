"""Processed Matrix events: the guard that makes command handling exactly-once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import table_of, utc_column


class ProcessedEvent(SQLModel, table=True):
    """A Matrix event the bot has handled; the key that makes handling exactly-once."""

    __tablename__ = "processed_event"

    event_id: str = Field(max_length=255, primary_key=True)
    room_id: str = Field(max_length=255)
    sender: str = Field(max_length=255)
    outcome: str = Field(max_length=16)
    processed_at: datetime = Field(sa_column=utc_column())
    # The encrypted message it was ("<megolm session>:<message index>"), when it was one:
    # unique, so the same ciphertext under another event ID is refused as handled.
    ciphertext: str | None = Field(default=None, max_length=128, unique=True, index=True)


# Built once: a Core insert with its values as parameters is compiled once and cached.
_INSERT = table_of(ProcessedEvent).insert()


class AlreadyHandled(Exception):
    """The event is in the processed-events table already."""


class EventStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def seen(self, event_id: str) -> bool:
        """True when the event was already handled (in a committed unit)."""
        found = await self._s.scalar(
            select(col(ProcessedEvent.event_id)).where(col(ProcessedEvent.event_id) == event_id)
        )
        return found is not None

    async def seen_among(self, event_ids: list[str]) -> set[str]:
        """The subset of `event_ids` already handled: one query for a whole sync batch."""
        if not event_ids:
            return set()
        rows = await self._s.scalars(
            select(col(ProcessedEvent.event_id)).where(col(ProcessedEvent.event_id).in_(event_ids))
        )
        return set(rows)

    async def mark(
        self,
        *,
        event_id: str,
        room_id: str,
        sender: str,
        outcome: str,
        now: datetime,
        ciphertext: str | None = None,
    ) -> None:
        """Record the event as handled (a command's before it is handled: one insert, no prior
        read). A second mark of the same event ID, or of the same ciphertext under another ID
        (a replay), raises AlreadyHandled; the unit is then unusable and must be abandoned (its
        rollback also drops whatever else it did)."""
        values = {
            "event_id": event_id,
            "room_id": room_id,
            "sender": sender,
            "outcome": outcome,
            "processed_at": now,
            "ciphertext": ciphertext,
        }
        # The unit's own pending writes first: an error of theirs is theirs, not a duplicate.
        await self._s.flush()
        try:
            await self._s.execute(_INSERT, values)
        except IntegrityError:
            raise AlreadyHandled(event_id) from None

    async def get(self, event_id: str) -> ProcessedEvent | None:
        return await self._s.get(ProcessedEvent, event_id)
