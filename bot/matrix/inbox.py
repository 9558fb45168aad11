"""What the bot does with each timeline event: commands, undecryptable events, joins.

Commands go to the dispatcher, which commits their effect, processed-event mark, audit entry
and outbox replies in one transaction; then the sender is woken. Encrypted events that cannot
be read yet are kept and retried after every sync (a late room key often arrives a moment
later); if one stays unreadable, its sender is told once, in plain words.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from nio import (
    AsyncClient,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RoomMemberEvent,
    RoomMessageText,
)
from nio.exceptions import EncryptionError, LocalProtocolError

from bot.app import App
from bot.dispatcher import Incoming, Outcome
from bot.faults import CrashPoints
from bot.matrix.content import notice
from bot.matrix.devices import DeviceTracker
from bot.matrix.rooms import RoomDirectory
from bot.rendering import plain
from commands.broadcast import ACK_WORD, ack_by_event, is_ack_reaction
from commands.parsing import strip_reply_fallback

log = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(hours=24)


class Inbox:
    def __init__(
        self,
        client: AsyncClient,
        app: App,
        devices: DeviceTracker,
        rooms: RoomDirectory,
        *,
        wake_sender: Callable[[], None],
        submit: Callable[[list], None],
        faults: CrashPoints,
        notice_after: timedelta,
    ) -> None:
        self.client, self.app, self.devices, self.rooms = client, app, devices, rooms
        self.wake_sender, self.submit, self.faults = wake_sender, submit, faults
        self.notice_after = notice_after
        self.pending_undecrypted = 0
        self.handled = 0
        self.horizon: datetime | None = None  # events from before the first start are history
        self.next_notice: datetime | None = None  # when a kept event's notice falls due

    async def load(self) -> None:
        async with self.app.db.unit(write=False) as store:
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
        incoming = Incoming(
            event_id=event.event_id,
            room_id=room.room_id,
            sender=event.sender,
            body=event.body,
            is_direct=room.joined_count <= 2,
            encrypted=room.encrypted,
            room_kind=await self.rooms.kind(room),
        )
        outcome = await self.app.dispatcher.handle(incoming)
        if outcome is None:
            outcome = await self._maybe_ack(incoming, relation)
        if outcome is None or outcome.duplicate:
            return
        self.handled += 1
        log.info("event %s: %s %s", event.event_id, outcome.command, outcome.outcome)
        self._count_ack(outcome)
        self.faults.hit("after-commit")
        self.submit(outcome.outbox)

    def _count_ack(self, outcome: Outcome) -> None:
        # The audit detail of a new acknowledgement reads "BC-3 ack by reply".
        if outcome.command == "ack" and " ack by " in outcome.detail:
            self.app.metrics.acks.labels(outcome.detail.rsplit(" ", 1)[-1]).inc()

    async def _maybe_ack(self, incoming: Incoming, relation: dict) -> Outcome | None:
        """A reply containing "ack" (or, in a DM, a bare "ack") acknowledges a broadcast."""
        target = (relation.get("m.in_reply_to") or {}).get("event_id")
        text = strip_reply_fallback(incoming.body)
        bare = incoming.is_direct and ACK_WORD.fullmatch(text.strip(" .!\n"))
        if not (target and ACK_WORD.search(text)) and not bare:
            return None
        handler = partial(ack_by_event, body=incoming.body, target_event=target, via="reply")
        return await self.app.dispatcher.handle_action(incoming, "ack", handler)

    async def _reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        if not is_ack_reaction(event.key):
            return
        if room.encrypted and not event.decrypted:
            return  # like commands: in an encrypted room only encrypted events count
        incoming = Incoming(
            event_id=event.event_id,
            room_id=room.room_id,
            sender=event.sender,
            body="",
            is_direct=room.joined_count <= 2,
            encrypted=room.encrypted,
            room_kind=await self.rooms.kind(room),
        )
        handler = partial(ack_by_event, body="", target_event=event.reacts_to, via="reaction")
        outcome = await self.app.dispatcher.handle_action(incoming, "ack", handler)
        if outcome is not None:
            self._count_ack(outcome)
            self.handled += 1
            self.submit(outcome.outbox)

    async def _keep_undecrypted(self, room: MatrixRoom, event: MegolmEvent) -> None:
        log.info("event %s in %s cannot be decrypted yet", event.event_id, room.room_id)
        async with self.app.db.unit() as store:
            await store.undecrypted.add(
                event_id=event.event_id,
                room_id=room.room_id,
                sender=event.sender,
                session_id=event.session_id,
                source=json.dumps(event.source),
                now=self.app.clock(),
            )
        self.pending_undecrypted += 1
        self.app.metrics.undecryptable.inc()
        due = self.app.clock() + self.notice_after
        self.next_notice = min(self.next_notice or due, due)
        with contextlib.suppress(LocalProtocolError):  # raised when already requested
            await self.client.request_room_key(event)

    async def retry_undecrypted(self) -> None:
        """Try the kept events again; tell senders once about those that stay unreadable."""
        if not self.pending_undecrypted:
            return
        async with self.app.db.unit(write=False) as store:
            kept = await store.undecrypted.all()
        now = self.app.clock()
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
            async with self.app.db.unit() as store:
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
        first: dict[tuple[str, str], object] = {}
        for row in rows:
            first.setdefault((row.sender, row.session_id), row)
        async with self.app.db.unit() as store:
            for row in first.values():
                sent = row.first_seen.astimezone(self.app.config.committee.zone)
                text = (
                    f"I could not read the encrypted message you sent at {sent:%H:%M} "
                    f"({self.app.config.committee.timezone}): my device never received its key. "
                    "If it was a command, please send it again. If this keeps happening, check "
                    "that your client shares keys with this bot's device."
                )
                content = notice(plain(text), in_reply_to=row.event_id, mentions=[row.sender])
                await store.outbox.enqueue(room_id=row.room_id, content=content, now=now)
                await store.audit.record(
                    actor=row.sender,
                    action="undecryptable",
                    outcome="notified",
                    now=now,
                    room_id=row.room_id,
                    event_id=row.event_id,
                )
            await store.undecrypted.mark_notified([r.event_id for r in rows], now=now)
        self.wake_sender()
