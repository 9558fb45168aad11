"""The Matrix side's ports (`bot/matrix/ports.py`), kept in storage by the core.

Here the facts the Matrix side reports get their meaning: a room change becomes a notice to
the chair, an answered invite an audit record, an event that stays unreadable a word to its
sender (once per key session, at most once an hour, and only to people on the roster), and
"someone the committee knows" means a roster member.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.matrix.ports import Queued, RoomChange, Unreadable
from bot.outbox import OutboxWriter
from commands import i18n
from commands.framework import Reply, View
from commands.values import CHROME
from storage.db import Database
from storage.outbox import OutboxMessage
from storage.stores import Stores
from storage.undecrypted import UndecryptedEvent

log = logging.getLogger(__name__)

NOTICE_EVERY = timedelta(hours=1)  # at most one "could not read" notice per sender
TOLD = "told-undecryptable:{digest}"


class Ledger:
    """Every port of the Matrix side, each call one unit of work."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime],
        outbox: OutboxWriter,
        submit: Callable[[list[OutboxMessage]], None],
        zone: ZoneInfo,
        on_notice: Callable[[], None],
    ) -> None:
        self.db, self.clock, self.outbox, self.submit = db, clock, outbox, submit
        self.zone, self.on_notice = zone, on_notice

    # Memory

    async def recall(self, key: str) -> str | None:
        async with self.db.unit(write=False) as store:
            return await store.state.get(key)

    async def keep(self, key: str, value: str, *, change: RoomChange | None = None) -> None:
        async with self.db.unit() as store:
            await store.state.set(key, value, now=self.clock())
            if change is not None:  # a committee room's change: the chair is told, by a job
                await store.notices.add(change.what, change.data, now=self.clock())
        if change is not None:
            self.on_notice()

    async def direct_room(self, user_id: str) -> str | None:
        async with self.db.unit(write=False) as store:
            return await store.rooms.direct_room(user_id)

    async def set_direct_room(self, user_id: str, room_id: str) -> None:
        async with self.db.unit() as store:
            await store.rooms.set_direct_room(user_id, room_id, now=self.clock())

    # People and invites

    async def knows(self, user_id: str) -> bool:
        async with self.db.unit(write=False) as store:
            return await store.roster.member(user_id) is not None

    # Profiles

    async def wanted(self) -> list[str]:
        """Everyone on the roster with a Matrix ID: their DMs are written in their zone."""
        async with self.db.unit(write=False) as store:
            entries = await store.roster.entries()
        # Contacts reached by email alone have no Matrix profile (`mailto:` IDs).
        return sorted({e.user_id for e in entries if e.user_id.startswith("@")})

    async def zones(self, zones: dict[str, str | None]) -> None:
        """What people's profiles say of their zones: kept when it names an IANA zone."""
        named = {user: zone if i18n.zone_named(zone) else None for user, zone in zones.items()}
        async with self.db.unit() as store:
            changed = await store.roster.set_zones(named)
        if changed:
            log.info("time zones from profiles: %d changed", len(changed))

    async def invited(self, room_id: str, inviter: str | None, joined: bool) -> None:
        async with self.db.unit() as store:
            await store.audit.record(
                actor=inviter or "unknown",
                action="invite",
                outcome="joined" if joined else "declined",
                now=self.clock(),
                room_id=room_id,
            )

    # Deliveries

    async def pending(self, limit: int) -> Sequence[Queued]:
        async with self.db.unit(write=False) as store:
            return await store.outbox.pending(limit=limit)  # no emails

    async def mark_sent(self, marks: list[tuple[int, str, datetime]]) -> None:
        async with self.db.unit() as store:
            await store.outbox.mark_all_sent(marks)

    async def note_attempt(self, key: int, error: str) -> None:
        async with self.db.unit() as store:
            await store.outbox.note_attempt(key, error=error)

    async def set_room(self, key: int, room_id: str) -> None:
        async with self.db.unit() as store:
            await store.outbox.set_room(key, room_id)

    async def mark_failed(self, key: int, error: str) -> None:
        async with self.db.unit() as store:
            await store.outbox.mark_failed(key, error=error)

    # Unreadable events

    async def count(self, sender: str | None = None) -> int:
        async with self.db.unit(write=False) as store:
            if sender is None:
                return len(await store.undecrypted.all())
            return await store.undecrypted.count_from(sender)

    async def hold(self, event: Unreadable) -> None:
        async with self.db.unit() as store:
            await store.undecrypted.add(
                event_id=event.event_id,
                room_id=event.room_id,
                sender=event.sender,
                session_id=event.session_id,
                source=event.source,
                now=event.first_seen,
            )

    async def all(self) -> list[Unreadable]:
        async with self.db.unit(write=False) as store:
            return [_unreadable(row) for row in await store.undecrypted.all()]

    async def forget(self, done: list[str], covered: list[str]) -> None:
        if not (done or covered):
            return
        async with self.db.unit() as store:
            await store.undecrypted.remove(done)
            await store.undecrypted.mark_notified(covered, now=self.clock())

    async def tell(self, events: list[Unreadable]) -> None:
        # One notice per sender and key session (a missing key usually hides several events),
        # and at most one an hour per sender; none to someone not on the roster.
        now = self.clock()
        first: dict[tuple[str, str], Unreadable] = {}
        for event in events:
            first.setdefault((event.sender, event.session_id), event)
        written: list[OutboxMessage] = []
        async with self.db.unit() as store:
            for event in first.values():
                if await self._may_tell(store, event.sender, now):
                    written += await self._tell(store, event, now)
            await store.undecrypted.mark_notified([e.event_id for e in events], now=now)
        self.submit(written)

    async def _tell(self, store: Stores, event: Unreadable, now: datetime) -> list[OutboxMessage]:
        data = {"sent": event.first_seen, "zone": self.zone.key}
        # Told in the sender's language: the notice is theirs, wherever it is posted.
        lang = await self.outbox.language(store, event.sender, None)
        reply = Reply(
            View("errors/undecryptable", data), (event.sender,), event.room_id, lang=lang,
            seal=CHROME,
        )  # fmt: skip
        out = await self.outbox.render(store, reply, here=event.room_id, event=event.event_id)
        await store.audit.record(
            actor=event.sender,
            action="undecryptable",
            outcome="notified",
            now=now,
            room_id=event.room_id,
            event_id=event.event_id,
        )
        return await self.outbox.write(store, out)

    async def _may_tell(self, store: Stores, sender: str, now: datetime) -> bool:
        if await store.roster.member(sender) is None:
            return False
        key = TOLD.format(digest=hashlib.sha256(sender.encode()).hexdigest()[:40])
        last = await store.state.get(key)
        if last is not None and now - datetime.fromisoformat(last) < NOTICE_EVERY:
            return False
        await store.state.set(key, now.isoformat(), now=now)
        return True


def _unreadable(row: UndecryptedEvent) -> Unreadable:
    return Unreadable(**{f.name: getattr(row, f.name) for f in fields(Unreadable)})
