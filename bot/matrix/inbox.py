"""What the bot does with each timeline event: messages, reactions, undecryptable events.

A message or a reaction becomes a neutral `Input` (its text, what it replies or reacts to)
for the dispatcher, which decides what it means and commits its effect, processed-event mark,
audit entry and replies in one transaction. Encrypted events that cannot be read yet are kept
and retried whenever room keys arrive (a late room key often comes a moment later); if one
stays unreadable, its sender is told, in plain words: once per key session and at most once
an hour, and only when they are on the roster.

Floods cost the flooder: someone not on the roster gets no notice, no key request and no log
line per event, and only a few of their events are kept (OUTSIDER_KEPT each, while fewer
than MOST_KEPT are kept in all).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nio import (
    AsyncClient,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RoomEncryptedMedia,
    RoomMemberEvent,
    RoomMessageMedia,
    RoomMessageText,
)
from nio.exceptions import EncryptionError, LocalProtocolError

from bot.dispatcher import Dispatcher
from bot.matrix.devices import DeviceTracker
from bot.matrix.rooms import RoomDirectory
from bot.matrix.trust import UNKNOWN, CrossSigningTrust
from bot.metrics import Metrics
from bot.outbox import OutboxWriter
from commands.framework import Input, Proof, Reply, View
from commands.values import CHROME, RoomKind
from storage.db import Database
from storage.outbox import OutboxMessage
from storage.stores import Stores
from storage.undecrypted import UndecryptedEvent

log = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(hours=24)
OUTSIDER_KEPT = 3  # undecryptable events kept per sender not on the roster
MOST_KEPT = 500  # no outsider's event is kept while this many wait
NOTICE_EVERY = timedelta(hours=1)  # at most one "could not read" notice per sender
TOLD = "told-undecryptable:{digest}"


class Inbox:
    def __init__(
        self,
        client: AsyncClient,
        dispatcher: Dispatcher,
        devices: DeviceTracker,
        rooms: RoomDirectory,
        trust: CrossSigningTrust,
        *,
        db: Database,
        outbox: OutboxWriter,
        submit: Callable[[list[OutboxMessage]], None],
        metrics: Metrics,
        clock: Callable[[], datetime],
        zone: ZoneInfo,
        notice_after: timedelta,
        record_deliveries: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.client, self.dispatcher, self.devices, self.rooms = client, dispatcher, devices, rooms
        self.trust = trust
        self.db, self.outbox, self.submit = db, outbox, submit
        self.metrics, self.clock, self.zone = metrics, clock, zone
        self.notice_after = notice_after
        # Writes the deliveries the sender has not recorded yet: a reply or reaction to one of
        # the bot's messages is traced to its record by the sent event's ID.
        self.record_deliveries = record_deliveries
        self.pending_undecrypted = 0
        self.handled = 0
        self.horizon: datetime | None = None  # events from before the first start are history
        self.next_notice: datetime | None = None  # when a kept event's notice falls due
        self._keys_arrived = True  # try the kept events again (at start: keys came meanwhile)

    async def load(self) -> None:
        async with self.db.unit(write=False) as store:
            self.pending_undecrypted = len(await store.undecrypted.all())
            horizon = await store.state.get("history_horizon")
        self.horizon = datetime.fromisoformat(horizon) if horizon else None

    def _is_history(self, event: Any) -> bool:
        if self.horizon is None:
            return False
        sent = datetime.fromtimestamp(event.server_timestamp / 1000, tz=UTC)
        return sent < self.horizon

    async def handle(self, room: MatrixRoom, event: Any) -> None:
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
        elif isinstance(event, RoomMessageMedia | RoomEncryptedMedia):
            await self._file(room, event)

    async def _message(self, room: MatrixRoom, event: RoomMessageText) -> None:
        content = event.source.get("content", {})
        relation = content.get("m.relates_to") or {}
        if room.encrypted and not event.decrypted:
            log.warning(
                "ignored a plaintext event %s in encrypted room %s", event.event_id, room.room_id
            )
            return
        if relation.get("rel_type") == "m.replace":  # an edit never runs (or re-runs) a command
            new = content.get("m.new_content") or {}
            body = new.get("body") if isinstance(new.get("body"), str) else ""
            await self._input(room, event, body=body, replaces=relation.get("event_id"))
            return
        reply_to = (relation.get("m.in_reply_to") or {}).get("event_id")
        await self._input(room, event, body=event.body, reply_to=reply_to)

    async def _file(self, room: MatrixRoom, event: RoomMessageMedia | RoomEncryptedMedia) -> None:
        """A file: handed over with what fetches it (an encrypted file's key included), for a
        family that keeps files as records (evidence of a status update) to take or leave."""
        if room.encrypted and not event.decrypted:
            return
        content = event.source.get("content", {})
        relation = content.get("m.relates_to") or {}
        reply_to = (relation.get("m.in_reply_to") or {}).get("event_id")
        if not reply_to:
            return  # only a reply to one of the bot's messages can concern it
        kept = {k: content[k] for k in ("msgtype", "body", "url", "file", "info") if k in content}
        name = content.get("body") if isinstance(content.get("body"), str) else ""
        await self._input(room, event, body=name, reply_to=reply_to, attachment=json.dumps(kept))

    async def _reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        if room.encrypted and not event.decrypted:
            return  # like commands: in an encrypted room only encrypted events count
        await self._input(room, event, reaction=event.key, reply_to=event.reacts_to)

    async def _input(self, room: MatrixRoom, event: Any, **what: Any) -> None:
        kind = self.rooms.kind(room, event.sender)
        if what.get("reply_to") and self.record_deliveries is not None:
            await self.record_deliveries()  # a quick reply may come before they are written

        async def prove() -> Proof:
            # Only an encrypted event names its device (and only by its keys).
            found = await self.trust.sender(event, room.room_id) if room.encrypted else UNKNOWN
            return Proof(found.device_id, found.master_key, found.self_signing_key)

        said = Input(
            event_id=event.event_id,
            room_id=room.room_id,
            sender=event.sender,
            is_direct=kind == RoomKind.DIRECT,
            encrypted=room.encrypted,
            room_kind=kind,
            prove=prove,
            sent_at=event.server_timestamp / 1000 if event.server_timestamp else None,
            **what,
        )
        outcome = await self.dispatcher.handle(said)
        if outcome is not None and not outcome.duplicate:
            self.handled += 1

    def keys_arrived(self) -> None:
        """Room keys came in (to-device messages): the kept events are worth another try."""
        self._keys_arrived = True

    async def _keep_undecrypted(self, room: MatrixRoom, event: MegolmEvent) -> None:
        self.metrics.undecryptable.inc()
        async with self.db.unit() as store:
            member = await store.roster.member(event.sender)
            if member is None and (
                self.pending_undecrypted >= MOST_KEPT
                or await store.undecrypted.count_from(event.sender) >= OUTSIDER_KEPT
            ):
                return  # not stored, not logged, no key asked for: a flood costs nothing
            log.info("event %s in %s cannot be decrypted yet", event.event_id, room.room_id)
            await store.undecrypted.add(
                event_id=event.event_id,
                room_id=room.room_id,
                sender=event.sender,
                session_id=event.session_id,
                source=json.dumps(event.source),
                now=self.clock(),
            )
        self.pending_undecrypted += 1
        due = self.clock() + self.notice_after
        self.next_notice = min(self.next_notice or due, due)
        if member is not None:
            with contextlib.suppress(LocalProtocolError):  # raised when already requested
                await self.client.request_room_key(event)

    async def retry_undecrypted(self) -> None:
        """Try the kept events again when keys arrived; tell senders about those that stay
        unreadable."""
        if not self.pending_undecrypted:
            return
        retry, self._keys_arrived = self._keys_arrived, False
        async with self.db.unit(write=False) as store:
            kept = await store.undecrypted.all()
        now = self.clock()
        told = {(r.sender, r.session_id) for r in kept if r.notified_at is not None}
        done, overdue, covered = [], [], []
        for row in kept:
            event = self._decrypt(row) if retry else None
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

    async def _may_tell(self, store: Stores, sender: str, now: datetime) -> bool:
        if await store.roster.member(sender) is None:
            return False
        key = TOLD.format(digest=hashlib.sha256(sender.encode()).hexdigest()[:40])
        last = await store.state.get(key)
        if last is not None and now - datetime.fromisoformat(last) < NOTICE_EVERY:
            return False
        await store.state.set(key, now.isoformat(), now=now)
        return True

    def _decrypt(self, row: UndecryptedEvent) -> Any:
        event = MegolmEvent.from_dict(json.loads(row.source))
        if not isinstance(event, MegolmEvent):
            return None
        event.room_id = row.room_id
        try:
            return self.client.decrypt_event(event)
        except EncryptionError:
            return None

    async def _tell_senders(self, rows: list[UndecryptedEvent], now: datetime) -> None:
        # One notice per sender and key session (a missing key usually hides several events),
        # and at most one an hour per sender; none to someone not on the roster.
        first: dict[tuple[str, str], UndecryptedEvent] = {}
        for row in rows:
            first.setdefault((row.sender, row.session_id), row)
        written: list[OutboxMessage] = []
        async with self.db.unit() as store:
            for row in first.values():
                if not await self._may_tell(store, row.sender, now):
                    continue
                data = {"sent": row.first_seen, "zone": self.zone.key}
                # Told in the sender's language: the notice is theirs, wherever it is posted.
                lang = await self.outbox.language(store, row.sender, None)
                reply = Reply(
                    View("errors/undecryptable", data), (row.sender,), row.room_id, lang=lang,
                    seal=CHROME,
                )  # fmt: skip
                out = await self.outbox.render(store, reply, here=row.room_id, event=row.event_id)
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
