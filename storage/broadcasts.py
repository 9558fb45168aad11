"""Emergency broadcasts, their recipients and acknowledgements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import Keyed, utc_column
from storage.counters import next_number
from storage.outbox import OutboxMessage


class Broadcast(Keyed, SQLModel, table=True):
    """An emergency broadcast to every NCPOC, with a roll-call of acknowledgements."""

    __tablename__ = "broadcast"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    message: str = Field(sa_column=Column(Text, nullable=False))
    severity: str = Field(max_length=16)
    exercise: bool = False
    sender: str = Field(max_length=255)
    room_id: str = Field(max_length=255)  # where the RCC-wide message went
    created_at: datetime = Field(sa_column=utc_column(index=True))
    tlp: str = Field(default="amber", max_length=16)
    audience: str = Field(default="ncpocs", max_length=100)  # all | ncpocs | cirt,le-24x7,..


class BroadcastRecipient(Keyed, SQLModel, table=True):
    """One NCPOC of one broadcast: the DM delivery and the acknowledgement."""

    __tablename__ = "broadcast_recipient"
    __table_args__ = (UniqueConstraint("broadcast_id", "user_id", name="uq_broadcast_user"),)

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True)
    user_id: str = Field(max_length=255)
    country: str | None = Field(default=None, max_length=2)
    dm_outbox_id: int | None = Field(default=None)
    acked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    ack_via: str | None = Field(default=None, max_length=16)  # command|reply|reaction|phone..
    ack_event_id: str | None = Field(default=None, max_length=255)
    tier: str = Field(default="primary", max_length=16)  # primary | alternate | a contact kind
    email: str | None = Field(default=None, max_length=254)
    email_outbox_id: int | None = Field(default=None)
    ack_recorded_by: str | None = Field(default=None, max_length=255)  # the chair, for=
    relayed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    relay_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    relay_tlp: str = Field(default="amber", max_length=16)


class BroadcastNotice(SQLModel, table=True):
    """A re-notification round sent to one person (or the chair's summary), once."""

    __tablename__ = "broadcast_notice"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "round", "recipient", name="uq_broadcast_notice"),
    )

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True)
    round: int
    recipient: str = Field(max_length=255)
    kind: str = Field(max_length=16)  # renotify | summary
    at: datetime = Field(sa_column=utc_column())


@dataclass(frozen=True)
class Recipient:
    """Who a broadcast is for: their country, their tier in the escalation chain, and the
    email address their fallback goes to (taken when the broadcast is sent)."""

    user_id: str
    country: str | None
    tier: str = "primary"
    email: str | None = None


class BroadcastStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def create(
        self,
        *,
        message: str,
        severity: str,
        exercise: bool,
        sender: str,
        room_id: str,
        recipients: list[Recipient],
        now: datetime,
        tlp: str = "amber",
        audience: str = "all",
    ) -> Broadcast:
        """The broadcast and every recipient, persisted before anything is sent."""
        broadcast = Broadcast(
            number=await next_number(self._s, "broadcast"),
            message=message,
            severity=severity,
            exercise=exercise,
            sender=sender,
            room_id=room_id,
            created_at=now,
            tlp=tlp,
            audience=audience,
        )
        self._s.add(broadcast)
        await self._s.flush()
        if recipients:
            await self._s.execute(
                insert(BroadcastRecipient),
                [
                    {
                        "broadcast_id": broadcast.id,
                        "user_id": r.user_id,
                        "country": r.country,
                        "tier": r.tier,
                        "email": r.email,
                    }
                    for r in recipients
                ],
            )
        return broadcast

    async def get(self, number: int) -> Broadcast | None:
        return await self._s.scalar(select(Broadcast).where(col(Broadcast.number) == number))

    async def by_id(self, broadcast_id: int) -> Broadcast | None:
        return await self._s.get(Broadcast, broadcast_id)

    async def latest(self) -> Broadcast | None:
        query = select(Broadcast).order_by(col(Broadcast.number).desc()).limit(1)
        return await self._s.scalar(query)

    async def recipients(self, broadcast_id: int) -> list[BroadcastRecipient]:
        query = (
            select(BroadcastRecipient)
            .where(col(BroadcastRecipient.broadcast_id) == broadcast_id)
            .order_by(col(BroadcastRecipient.country), col(BroadcastRecipient.user_id))
        )
        return list(await self._s.scalars(query))

    async def recipient(self, broadcast_id: int, user_id: str) -> BroadcastRecipient | None:
        query = select(BroadcastRecipient).where(
            col(BroadcastRecipient.broadcast_id) == broadcast_id,
            col(BroadcastRecipient.user_id) == user_id,
        )
        return await self._s.scalar(query)

    async def pending_for(self, user_id: str) -> Broadcast | None:
        """The newest broadcast this user has not acknowledged yet."""
        query = (
            select(Broadcast)
            .join(BroadcastRecipient, col(BroadcastRecipient.broadcast_id) == col(Broadcast.id))
            .where(
                col(BroadcastRecipient.user_id) == user_id,
                col(BroadcastRecipient.acked_at).is_(None),
            )
            .order_by(col(Broadcast.number).desc())
            .limit(1)
        )
        return await self._s.scalar(query)

    async def delivered(self, deliveries: list[tuple[BroadcastRecipient, OutboxMessage]]) -> None:
        """Link recipients to their DM: (recipient, outbox row just written)."""
        await self._s.flush()  # the outbox rows get their IDs, inserted in one statement
        for recipient, message in deliveries:
            recipient.dm_outbox_id = message.id
        await self._s.flush()

    async def unfinished(self, *, since: datetime) -> list[int]:
        """Broadcasts with a DM still to write, or sent after `since` (rounds may remain)."""
        undelivered = select(col(BroadcastRecipient.broadcast_id)).where(
            col(BroadcastRecipient.dm_outbox_id).is_(None)
        )
        query = select(col(Broadcast.id)).where(
            or_(col(Broadcast.id).in_(undelivered), col(Broadcast.created_at) >= since)
        )
        return list(await self._s.scalars(query.order_by(col(Broadcast.id))))

    async def dm_rooms(self, broadcast_id: int) -> dict[str, str | None]:
        """Recipient -> the room their DM went to (None until the sender has opened it)."""
        query = (
            select(col(BroadcastRecipient.user_id), col(OutboxMessage.room_id))
            .join(OutboxMessage, col(OutboxMessage.id) == col(BroadcastRecipient.dm_outbox_id))
            .where(col(BroadcastRecipient.broadcast_id) == broadcast_id)
        )
        return {user: room for user, room in await self._s.execute(query)}

    async def acknowledge(
        self,
        recipient: BroadcastRecipient,
        *,
        via: str,
        event_id: str,
        now: datetime,
        recorded_by: str | None = None,
    ) -> None:
        recipient.acked_at, recipient.ack_via, recipient.ack_event_id = now, via, event_id
        recipient.ack_recorded_by = recorded_by
        await self._s.flush()

    async def relayed(
        self, recipient: BroadcastRecipient, *, note: str | None, now: datetime, tlp: str = "amber"
    ) -> None:
        recipient.relayed_at, recipient.relay_note, recipient.relay_tlp = now, note, tlp
        await self._s.flush()

    async def emailed(
        self, deliveries: list[tuple[BroadcastRecipient, OutboxMessage]], *, delivered: bool
    ) -> None:
        """Link recipients to the email written for them: (recipient, outbox row); with
        `delivered`, the email is their delivery too (no Matrix account)."""
        await self._s.flush()
        for recipient, message in deliveries:
            recipient.email_outbox_id = message.id
            if delivered:
                recipient.dm_outbox_id = message.id
        await self._s.flush()

    async def previous_drill(self, number: int) -> Broadcast | None:
        """The exercise sent before broadcast `number`, if any."""
        query = (
            select(Broadcast)
            .where(col(Broadcast.exercise).is_(True), col(Broadcast.number) < number)
            .order_by(col(Broadcast.number).desc())
            .limit(1)
        )
        return await self._s.scalar(query)

    async def since(self, start: datetime, end: datetime) -> list[Broadcast]:
        """Broadcasts sent in [start, end), oldest first."""
        query = select(Broadcast).where(
            col(Broadcast.created_at) >= start, col(Broadcast.created_at) < end
        )
        return list(await self._s.scalars(query.order_by(col(Broadcast.number))))

    async def noticed(self, broadcast_id: int) -> set[tuple[int, str]]:
        query = select(col(BroadcastNotice.round), col(BroadcastNotice.recipient)).where(
            col(BroadcastNotice.broadcast_id) == broadcast_id
        )
        return {(r, who) for r, who in await self._s.execute(query)}

    async def log_steps(
        self, broadcast_id: int, steps: list[int], *, alerted: list[str], at: datetime
    ) -> None:
        """Escalation steps done: a marker for each (recipient ""), and who was alerted
        (under the last of them)."""
        rows = [(k, "", "step") for k in steps]
        rows += [(steps[-1], user, "escalate") for user in dict.fromkeys(alerted)]
        self._s.add_all(
            BroadcastNotice(broadcast_id=broadcast_id, round=k, recipient=who, kind=kind, at=at)
            for k, who, kind in rows
        )
        await self._s.flush()

    async def log_report(self, broadcast_id: int, user: str, *, at: datetime) -> None:
        """A drill's report, sent to the chair once (round -1)."""
        self._s.add(
            BroadcastNotice(
                broadcast_id=broadcast_id, round=-1, recipient=user, kind="report", at=at
            )
        )
        await self._s.flush()

    async def log_chase(self, broadcast_id: int, user: str, *, at: datetime) -> None:
        """The one reminder to confirm onward dissemination (round 0)."""
        self._s.add(
            BroadcastNotice(
                broadcast_id=broadcast_id, round=0, recipient=user, kind="chase", at=at
            )
        )
        await self._s.flush()

    async def delivery_events(self, ref: str) -> dict[int, str | None]:
        """Outbox ID -> Matrix event ID of every message of one record (`broadcast:3`)."""
        query = select(col(OutboxMessage.id), col(OutboxMessage.event_id)).where(
            col(OutboxMessage.ref) == ref
        )
        return {i: e for i, e in await self._s.execute(query) if i is not None}
