"""What the bot does with each timeline event: messages, reactions, undecryptable events.

A message or a reaction becomes a neutral `Input` (its text, what it replies or reacts to)
for the dispatcher, which decides what it means and commits its effect, processed-event mark,
audit entry and replies in one transaction. Encrypted events that cannot be read yet are kept
and retried whenever room keys arrive (a late room key often comes a moment later); if one
stays unreadable, the core is asked to tell its sender (`UnreadableKeep.tell`: the committee
decides who hears of it, and how often).

Floods cost the flooder: someone the committee does not know gets no notice, no key request
and no log line per event, and only a few of their events are kept (OUTSIDER_KEPT each, while
fewer than MOST_KEPT are kept in all).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from nio import (
    AsyncClient,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RoomEncryptedMedia,
    RoomMemberEvent,
    RoomMessageMedia,
    RoomMessageText,
    UnknownEvent,
)
from nio.exceptions import EncryptionError, LocalProtocolError

from bot.matrix.devices import DeviceTracker
from bot.matrix.ports import Memory, People, Unreadable, UnreadableKeep
from bot.matrix.rooms import RoomDirectory
from bot.matrix.trust import UNKNOWN, CrossSigningTrust
from bot.metrics import Metrics
from commands.framework import Input, Proof
from commands.values import RoomKind

log = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(hours=24)
OUTSIDER_KEPT = 3  # undecryptable events kept per sender the committee does not know
MOST_KEPT = 500  # no outsider's event is kept while this many wait
HORIZON = "history_horizon"


POLL_RESPONSES = ("org.matrix.msc3381.poll.response", "m.poll.response")


def replied(relation: dict[str, Any]) -> tuple[str | None, str | None]:
    """What a message answers, and the thread it was sent in. In a thread, a client names
    the thread's latest event as a fallback reply (`is_falling_back`) for clients without
    threads: that is not an answer to it, but the message concerns the thread's root (a
    file sent in an incident's thread is a file about its alert; "ack" in a broadcast's, an
    acknowledgement of it)."""
    thread = relation.get("event_id") if relation.get("rel_type") == "m.thread" else None
    reply_to = (relation.get("m.in_reply_to") or {}).get("event_id")
    if thread is not None and relation.get("is_falling_back", True):
        reply_to = thread
    return (reply_to if isinstance(reply_to, str) else None,
            thread if isinstance(thread, str) else None)  # fmt: skip


class Inbox:
    def __init__(
        self,
        client: AsyncClient,
        dispatch: Callable[[Input], Awaitable[bool]],
        devices: DeviceTracker,
        rooms: RoomDirectory,
        trust: CrossSigningTrust,
        *,
        memory: Memory,
        people: People,
        unreadable: UnreadableKeep,
        metrics: Metrics,
        clock: Callable[[], datetime],
        notice_after: timedelta,
        record_deliveries: Callable[[], Awaitable[None]] | None = None,
        ciphertext_of: Callable[[str], str | None] = lambda event_id: None,
    ) -> None:
        # `dispatch` hands an input to the core; it answers whether it was new (not a
        # duplicate of an event handled before).
        self.client, self.dispatch, self.devices, self.rooms = client, dispatch, devices, rooms
        self.trust, self.memory, self.people, self.unreadable = trust, memory, people, unreadable
        self.metrics, self.clock = metrics, clock
        self.notice_after = notice_after
        # Writes the deliveries the sender has not recorded yet: a reply or reaction to one of
        # the bot's messages is traced to its record by the sent event's ID.
        self.record_deliveries = record_deliveries
        self.ciphertext_of = ciphertext_of  # bot.matrix.replay.Ciphertexts.take
        self.pending_undecrypted = 0
        self.handled = 0
        self.horizon: datetime | None = None  # events from before the first start are history
        self.next_notice: datetime | None = None  # when a kept event's notice falls due
        self._keys_arrived = True  # try the kept events again (at start: keys came meanwhile)

    async def load(self) -> None:
        self.pending_undecrypted = await self.unreadable.count()
        horizon = await self.memory.recall(HORIZON)
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
        elif isinstance(event, UnknownEvent) and event.type in POLL_RESPONSES:
            await self._poll_response(room, event)

    async def _poll_response(self, room: MatrixRoom, event: UnknownEvent) -> None:
        """An answer to a poll (MSC3381, as Element sends it today, or the stable form):
        handed over as the answer's ID, in reply to the poll's event."""
        if room.encrypted and not event.decrypted:
            return
        content = event.source.get("content", {})
        relation = content.get("m.relates_to") or {}
        poll = relation.get("event_id") if relation.get("rel_type") == "m.reference" else None
        unstable = content.get("org.matrix.msc3381.poll.response") or {}
        answers = unstable.get("answers") or content.get("m.selections") or []
        if not isinstance(poll, str) or not answers or not isinstance(answers[0], str):
            return
        await self._input(room, event, poll=answers[0][:64], reply_to=poll)

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
        reply_to, thread = replied(relation)
        await self._input(room, event, body=event.body, reply_to=reply_to, thread=thread)

    async def _file(self, room: MatrixRoom, event: RoomMessageMedia | RoomEncryptedMedia) -> None:
        """A file: handed over with what fetches it (an encrypted file's key included), for a
        family that keeps files as records (evidence of a status update) to take or leave."""
        if room.encrypted and not event.decrypted:
            return
        content = event.source.get("content", {})
        relation = content.get("m.relates_to") or {}
        reply_to, thread = replied(relation)
        if not reply_to:
            return  # only a reply to one of the bot's messages can concern it
        kept = {k: content[k] for k in ("msgtype", "body", "url", "file", "info") if k in content}
        name = content.get("body") if isinstance(content.get("body"), str) else ""
        await self._input(
            room, event, body=name, reply_to=reply_to, thread=thread, attachment=json.dumps(kept)
        )

    async def _reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        if room.encrypted and not event.decrypted:
            return  # like commands: in an encrypted room only encrypted events count
        await self._input(room, event, reaction=event.key, reply_to=event.reacts_to)

    async def _input(self, room: MatrixRoom, event: Any, **what: Any) -> None:
        kind = self.rooms.kind(room, event.sender)
        if (what.get("reply_to") or what.get("thread")) and self.record_deliveries is not None:
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
            ciphertext=self.ciphertext_of(event.event_id),
            **what,
        )
        if await self.dispatch(said):
            self.handled += 1

    def keys_arrived(self) -> None:
        """Room keys came in (to-device messages): the kept events are worth another try."""
        self._keys_arrived = True

    async def _keep_undecrypted(self, room: MatrixRoom, event: MegolmEvent) -> None:
        self.metrics.undecryptable.inc()
        known = await self.people.knows(event.sender)
        if not known and (
            self.pending_undecrypted >= MOST_KEPT
            or await self.unreadable.count(event.sender) >= OUTSIDER_KEPT
        ):
            return  # not stored, not logged, no key asked for: a flood costs nothing
        log.info("event %s in %s cannot be decrypted yet", event.event_id, room.room_id)
        kept = Unreadable(
            event_id=event.event_id,
            room_id=room.room_id,
            sender=event.sender,
            session_id=event.session_id,
            source=json.dumps(event.source),
            first_seen=self.clock(),
            notified_at=None,
        )
        await self.unreadable.hold(kept)
        self.pending_undecrypted += 1
        due = self.clock() + self.notice_after
        self.next_notice = min(self.next_notice or due, due)
        if known:
            with contextlib.suppress(LocalProtocolError):  # raised when already requested
                await self.client.request_room_key(event)

    async def retry_undecrypted(self) -> None:
        """Try the kept events again when keys arrived; tell senders about those that stay
        unreadable."""
        if not self.pending_undecrypted:
            return
        retry, self._keys_arrived = self._keys_arrived, False
        kept = await self.unreadable.all()
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
        await self.unreadable.forget(done, covered)
        if overdue:
            await self.unreadable.tell(overdue)
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

    def _decrypt(self, row: Unreadable) -> Any:
        event = MegolmEvent.from_dict(json.loads(row.source))
        if not isinstance(event, MegolmEvent):
            return None
        event.room_id = row.room_id
        try:
            return self.client.decrypt_event(event)
        except EncryptionError:
            return None
