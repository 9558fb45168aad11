"""What the bot does with each timeline event: messages, reactions, undecryptable events.

A message or a reaction becomes a neutral `Input` (its text, what it replies or reacts to)
for the dispatcher, which decides what it means and commits its effect, processed-event mark,
audit entry and replies in one transaction. Encrypted events that cannot be read yet are kept
and retried after every sync (a late room key often arrives a moment later); if one stays
unreadable, its sender is told once, in plain words.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from nio import (
    AsyncClient,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RoomMemberEvent,
    RoomMessageText,
)
from nio.exceptions import EncryptionError, LocalProtocolError

from bot.dispatcher import Dispatcher
from bot.matrix.devices import DeviceTracker
from bot.matrix.rooms import RoomDirectory
from bot.metrics import Metrics
from bot.outbox import OutboxWriter
from commands.framework import Input, Reply, View
from commands.values import RoomKind
from storage.db import Database
from storage.models import OutboxMessage, UndecryptedEvent

log = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(hours=24)


class Inbox:
    def __init__(
        self,
        client: AsyncClient,
        dispatcher: Dispatcher,
        devices: DeviceTracker,
        rooms: RoomDirectory,
        *,
        db: Database,
        outbox: OutboxWriter,
        submit: Callable[[list[OutboxMessage]], None],
        metrics: Metrics,
        clock: Callable[[], datetime],
        zone: ZoneInfo,
        notice_after: timedelta,
    ) -> None:
        self.client, self.dispatcher, self.devices, self.rooms = client, dispatcher, devices, rooms
        self.db, self.outbox, self.submit = db, outbox, submit
        self.metrics, self.clock, self.zone = metrics, clock, zone
        self.notice_after = notice_after
        self.pending_undecrypted = 0
        self.handled = 0
        self.horizon: datetime | None = None  # events from before the first start are history
        self.next_notice: datetime | None = None  # when a kept event's notice falls due

    async def load(self) -> None:
        async with self.db.unit(write=False) as store:
            self.pending_undecrypted = len(await store.undecrypted.all())
            horizon = await store.state.get("history_horizon")
        self.horizon = datetime.fromisoformat(horizon) if horizon else None

    def _is_history(self, event) -> bool:
        if self.horizon is None:
            return False
        sent = datetime.fromtimestamp(event.server_timestamp / 1000, tz=UTC)
        return sent < self.horizon

    async def handle(self, room: MatrixRoom, event) -> None:
        if event.sender == self.client.user_id or self._is_history(event):
            return
        if isinstance(event, RoomMemberEvent):
            if event.membership == "join":
                self.devices.member_joined(event.state_key)
        elif isinstance(event, MegolmEvent):
            await self._keep_undecrypted(room, event)
        elif isinstance(event, RoomMessageText):
            await self._message(room, event)
        elif isinstance(event, ReactionEvent):
            await self._reaction(room, event)

    async def _message(self, room: MatrixRoom, event: RoomMessageText) -> None:
        relation = event.source.get("content", {}).get("m.relates_to") or {}
        if relation.get("rel_type") == "m.replace":
            return  # an edit never runs (or re-runs) a command
        if room.encrypted and not event.decrypted:
            log.warning(
                "ignored a plaintext event %s in encrypted room %s", event.event_id, room.room_id
            )
            return
        reply_to = (relation.get("m.in_reply_to") or {}).get("event_id")
        await self._input(room, event, body=event.body, reply_to=reply_to)

    async def _reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        if room.encrypted and not event.decrypted:
            return  # like commands: in an encrypted room only encrypted events count
        await self._input(room, event, reaction=event.key, reply_to=event.reacts_to)

    async def _input(self, room: MatrixRoom, event, **what) -> None:
        kind = self.rooms.kind(room, event.sender)
        said = Input(
            event_id=event.event_id,
            room_id=room.room_id,
            sender=event.sender,
            is_direct=kind == RoomKind.DIRECT,
            encrypted=room.encrypted,
            room_kind=kind,
            **what,
        )
        outcome = await self.dispatcher.handle(said)
        if outcome is not None and not outcome.duplicate:
            self.handled += 1

    async def _keep_undecrypted(self, room: MatrixRoom, event: MegolmEvent) -> None:
        log.info("event %s in %s cannot be decrypted yet", event.event_id, room.room_id)
        async with self.db.unit() as store:
            await store.undecrypted.add(
                event_id=event.event_id,
                room_id=room.room_id,
                sender=event.sender,
                session_id=event.session_id,
                source=json.dumps(event.source),
                now=self.clock(),
            )
        self.pending_undecrypted += 1
        self.metrics.undecryptable.inc()
        due = self.clock() + self.notice_after
        self.next_notice = min(self.next_notice or due, due)
        with contextlib.suppress(LocalProtocolError):  # raised when already requested
            await self.client.request_room_key(event)

    async def retry_undecrypted(self) -> None:
        """Try the kept events again; tell senders once about those that stay unreadable."""
        if not self.pending_undecrypted:
            return
        async with self.db.unit(write=False) as store:
            kept = await store.undecrypted.all()
        now = self.clock()
        told = {(r.sender, r.session_id) for r in kept if r.notified_at is not None}
        done, overdue, covered = [], [], []
        for row in kept:
            event = self._decrypt(row)
            room = self.client.rooms.get(row.room_id)
            if event is not None and room is not None:
                await self.handle(room, event)
                done.append(row.event_id)
            elif now - row.first_seen > GIVE_UP_AFTER or room is None:
                done.append(row.event_id)
            elif (row.sender, row.session_id) in told:
                if row.notified_at is None:  # its sender was told about this key session
                    covered.append(row.event_id)
            elif now - row.first_seen >= self.notice_after:
                overdue.append(row)
        if done or covered:
            async with self.db.unit() as store:
                await store.undecrypted.remove(done)
                await store.undecrypted.mark_notified(covered, now=now)
        if overdue:
            await self._tell_senders(overdue, now)
        self.pending_undecrypted = len(kept) - len(done)
        waiting = [
            r.first_seen + self.notice_after
            for r in kept
            if r.event_id not in done
            and r not in overdue
            and r.notified_at is None
            and (r.sender, r.session_id) not in told
        ]
        self.next_notice = min(waiting, default=None)

    def _decrypt(self, row):
        event = MegolmEvent.from_dict(json.loads(row.source))
        if not isinstance(event, MegolmEvent):
            return None
        event.room_id = row.room_id
        try:
            return self.client.decrypt_event(event)
        except EncryptionError:
            return None

    async def _tell_senders(self, rows, now: datetime) -> None:
        # One notice per sender and key session: a missing key usually hides several events.
        first: dict[tuple[str, str], UndecryptedEvent] = {}
        for row in rows:
            first.setdefault((row.sender, row.session_id), row)
        written: list[OutboxMessage] = []
        async with self.db.unit() as store:
            for row in first.values():
                data = {"sent": row.first_seen, "zone": self.zone.key}
                reply = Reply(View("errors/undecryptable", data), (row.sender,), row.room_id)
                out = self.outbox.render(reply, here=row.room_id, event=row.event_id)
                written += await self.outbox.write(store, out)
                await store.audit.record(
                    actor=row.sender,
                    action="undecryptable",
                    outcome="notified",
                    now=now,
                    room_id=row.room_id,
                    event_id=row.event_id,
                )
            await store.undecrypted.mark_notified([r.event_id for r in rows], now=now)
        self.submit(written)
