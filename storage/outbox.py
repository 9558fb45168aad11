"""The outbox: messages written in the same transaction as the change that caused them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import Keyed, table_of, utc_column
from storage.lists import pack


class OutboxMessage(Keyed, SQLModel, table=True):
    """A message the bot must send: written with the change that caused it, sent after.

    The transaction ID is fixed when the row is written, so a resend after a crash is
    recognised by the homeserver as the same message and is not posted twice.
    """

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    txn_id: str = Field(max_length=64, unique=True)
    # The room, or (room_id None) the person whose DM with the bot it goes to: the sender
    # opens the DM when needed and records its room here.
    room_id: str | None = Field(default=None, max_length=255)
    to_user: str | None = Field(default=None, max_length=255)
    event_type: str = Field(default="m.room.message", max_length=64)
    # "message": content is the event content. "file": content names a renderer and its data;
    # the file is rendered, uploaded (encrypted in encrypted rooms) and sent at send time.
    kind: str = Field(default="message", max_length=16)
    # What the message belongs to, e.g. "broadcast:3": lets a reply or reaction to the sent
    # event be traced back to its record.
    ref: str | None = Field(default=None, max_length=64, index=True)
    content: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    # Its seal (commands.audience.Seal): the strictest label shown, and the people it is bound
    # to (storage.lists); `needs` below is the least clearance of its readers.
    label: str = Field(default="clear", max_length=16)
    bound_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    state: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    created_at: datetime = Field(sa_column=utc_column())
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    event_id: str | None = Field(default=None, max_length=255)
    error: str | None = Field(default=None, max_length=255)
    # Who is told, in words, if the message is refused for good (a packed list), and when.
    report_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reported_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # The least a room's readers must be cleared for when it is sent (0: anyone), because
    # it shows labelled content (see commands.audience).
    needs: int = 0


PENDING, SENT, FAILED = "pending", "sent", "failed"
EMAIL = "email"  # the kind of an email (bot.mail sends those; the Matrix sender the rest)
_TABLE = table_of(OutboxMessage)
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
        room_id: str | None,
        content: dict[str, Any],
        now: datetime,
        event_type: str = "m.room.message",
        kind: str = "message",
        ref: str | None = None,
        to_user: str | None = None,
        report_to: Iterable[str] = (),
        label: str = "clear",
        needs: int = 0,
        bound_to: Iterable[str] | None = None,
        flush: bool = True,
    ) -> OutboxMessage:
        """Queue one message to a room, or (room_id None) to a person's DM with the bot; its
        transaction ID is fixed here, once. Its seal — `label`, `needs`, `bound_to` (see
        commands.audience) — is kept for the sender's check when it sends.

        With `flush=False` the row gets its ID at the unit's next flush: many rows written
        together then go to the database as one statement.
        """
        message = OutboxMessage(
            txn_id=f"rcc.{uuid.uuid4().hex}",
            room_id=room_id,
            to_user=to_user,
            event_type=event_type,
            kind=kind,
            ref=ref,
            content=json.dumps(content, ensure_ascii=False),
            created_at=now,
            report_to=pack(report_to) if report_to else None,
            needs=needs,
            label=label,
            bound_to=pack(sorted(bound_to)) if bound_to is not None else None,
        )
        self._s.add(message)
        if flush:
            await self._s.flush()
        return message

    async def pending(self, *, limit: int = 100, email: bool = False) -> list[OutboxMessage]:
        """Unsent messages, oldest first: Matrix messages, or (email=True) emails."""
        kind = col(OutboxMessage.kind) == EMAIL if email else col(OutboxMessage.kind) != EMAIL
        query = (
            select(OutboxMessage)
            .where(col(OutboxMessage.state) == PENDING, kind)
            .order_by(col(OutboxMessage.id))
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
            .where(col(OutboxMessage.id) == message_id)
            .values(state=FAILED, error=error[:255])
        )

    async def set_room(self, message_id: int, room_id: str) -> None:
        """The DM a person's message goes to, once the sender knows it."""
        await self._s.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id)
            .values(room_id=room_id)
        )

    async def failed_unreported(self) -> list[OutboxMessage]:
        """Messages refused for good that someone should hear about, oldest first."""
        query = (
            select(OutboxMessage)
            .where(
                col(OutboxMessage.state) == FAILED,
                col(OutboxMessage.report_to).is_not(None),
                col(OutboxMessage.reported_at).is_(None),
            )
            .order_by(col(OutboxMessage.id))
        )
        return list(await self._s.scalars(query))

    async def mark_reported(self, message_ids: list[int], *, now: datetime) -> None:
        if message_ids:
            await self._s.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(message_ids))
                .values(reported_at=now)
            )

    async def note_attempt(self, message_id: int, *, error: str) -> None:
        await self._s.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id)
            .values(attempts=col(OutboxMessage.attempts) + 1, error=error[:255])
        )

    async def ref_of(self, event_id: str) -> str | None:
        """What record a sent event belongs to (its `ref`), if any."""
        query = select(col(OutboxMessage.ref)).where(col(OutboxMessage.event_id) == event_id)
        return await self._s.scalar(query)

    async def first_sent(self, ref: str, room_id: str) -> OutboxMessage | None:
        """The first message of a record (`digest:4`) sent into a room, if one was."""
        query = select(OutboxMessage).where(
            col(OutboxMessage.ref) == ref,
            col(OutboxMessage.room_id) == room_id,
            col(OutboxMessage.state) == SENT,
        )
        return await self._s.scalar(query.order_by(col(OutboxMessage.id)).limit(1))

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self._s.get(OutboxMessage, message_id)

    async def sent_to(self, room_id: str) -> list[OutboxMessage]:
        query = select(OutboxMessage).where(
            col(OutboxMessage.room_id) == room_id, col(OutboxMessage.state) == SENT
        )
        return list(await self._s.scalars(query.order_by(col(OutboxMessage.id))))

    async def sent_for(self, ref: str) -> list[OutboxMessage]:
        """Every message already sent for one record, e.g. all deliveries of "broadcast:3"."""
        query = select(OutboxMessage).where(
            col(OutboxMessage.ref) == ref, col(OutboxMessage.state) == SENT
        )
        return list(await self._s.scalars(query.order_by(col(OutboxMessage.id))))
