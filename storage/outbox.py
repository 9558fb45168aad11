"""The outbox: messages written in the same transaction as the change that caused them."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage

PENDING, SENT, FAILED = "pending", "sent", "failed"
_TABLE = OutboxMessage.__table__
_MARK_SENT = (
    _TABLE.update()
    .where(_TABLE.c.id == bindparam("row"))
    .values(state=SENT, event_id=bindparam("event"), sent_at=bindparam("at"))
)


class OutboxStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def enqueue(
        self,
        *,
        room_id: str,
        content: dict[str, Any],
        now: datetime,
        event_type: str = "m.room.message",
        kind: str = "message",
        ref: str | None = None,
        flush: bool = True,
    ) -> OutboxMessage:
        """Queue one message; its transaction ID is fixed here, once.

        With `flush=False` the row gets its ID at the unit's next flush: many rows written
        together then go to the database as one statement.
        """
        message = OutboxMessage(
            txn_id=f"rcc.{uuid.uuid4().hex}",
            room_id=room_id,
            event_type=event_type,
            kind=kind,
            ref=ref,
            content=json.dumps(content, ensure_ascii=False),
            created_at=now,
        )
        self._s.add(message)
        if flush:
            await self._s.flush()
        return message

    async def pending(self, *, limit: int = 100) -> list[OutboxMessage]:
        """Unsent messages, oldest first."""
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.state == PENDING)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        return list(await self._s.scalars(query))

    async def mark_all_sent(self, marks: list[tuple[int, str, datetime]]) -> None:
        """Record deliveries, (outbox ID, event ID, when) each, in one executemany."""
        if marks:
            rows = [{"row": m, "event": e, "at": at} for m, e, at in marks]
            await self._s.execute(_MARK_SENT, rows)

    async def mark_failed(self, message_id: int, *, error: str) -> None:
        """Give up on a message the homeserver clearly rejected."""
        await self._s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(state=FAILED, error=error[:255])
        )

    async def note_attempt(self, message_id: int, *, error: str) -> None:
        await self._s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(attempts=OutboxMessage.attempts + 1, error=error[:255])
        )

    async def ref_of(self, event_id: str) -> str | None:
        """What record a sent event belongs to (its `ref`), if any."""
        query = select(OutboxMessage.ref).where(OutboxMessage.event_id == event_id)
        return await self._s.scalar(query)

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self._s.get(OutboxMessage, message_id)

    async def sent_to(self, room_id: str) -> list[OutboxMessage]:
        query = select(OutboxMessage).where(
            OutboxMessage.room_id == room_id, OutboxMessage.state == SENT
        )
        return list(await self._s.scalars(query.order_by(OutboxMessage.id)))

    async def sent_for(self, ref: str) -> list[OutboxMessage]:
        """Every message already sent for one record, e.g. all deliveries of "broadcast:3"."""
        query = select(OutboxMessage).where(OutboxMessage.ref == ref, OutboxMessage.state == SENT)
        return list(await self._s.scalars(query.order_by(OutboxMessage.id)))
