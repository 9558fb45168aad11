"""Sends the outbox: in order within a room, rooms in parallel up to a bound.

Each message keeps the transaction ID it was given when it was written, so a resend after a
crash is the same request to the homeserver and is not posted twice. Rate limits are waited
out, transient errors retried with backoff; only a clear rejection ends a message as failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import io
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

import aiohttp
from nio import (
    AsyncClient,
    MatrixRoom,
    MessageDirection,
    RoomGetStateEventResponse,
    RoomMessagesResponse,
    RoomPutStateResponse,
    RoomSendResponse,
    UploadResponse,
)
from nio.exceptions import LocalProtocolError

from bot.faults import CrashPoints
from bot.logs import log_failure
from bot.matrix.backoff import Backoff, is_transient, retry_after
from bot.matrix.content import file_content
from bot.matrix.devices import DeviceTracker
from bot.matrix.fence import Fenced
from bot.matrix.ports import Admission, Arrivals, Deliveries, Queued
from bot.metrics import Metrics

log = logging.getLogger(__name__)

IDLE_POLL = 10.0  # also re-read the outbox this often, in case a wake-up was missed
ROOM_WAIT = 30.0  # a room just created or joined shows up at the next sync; wait that long
MARK_DELAY = 0.2  # seconds: deliveries are recorded in batches this far apart
# Of two sites, each message carries its outbox transaction ID in its content: the node that
# takes over finds what the other sent but had not recorded (`recover`), and does not send it
# again. (Matrix transaction IDs are the sending device's own: the homeserver cannot tell.)
OUTBOX_FIELD = "org.rcc.outbox"
RECOVER_PAGES = 3  # of 100 events per room: a take-over looks this far back


class _Rejected(Exception):
    """A message that cannot be sent, ever (not worth retrying)."""


class Turn:
    """A send's passage through the gate; `again()` when the homeserver refused it for now
    keeps its place: the gate waits for it before letting anyone else through."""

    def __init__(self) -> None:
        self.kept = False

    def again(self) -> None:
        self.kept = True


class RateGate:
    """Shared by all sends: after a 429 or a failing homeserver, sends go one at a time
    until the trouble is behind us, the oldest message first.

    Without it every concurrent send waits out its own Retry-After and they all retry
    together, so each round one gets through and the others are refused again; and while
    the homeserver is down, every pending message would knock on its own schedule. With it,
    the whole sender backs off as one: about one request a second at first, then fewer.
    While it holds sends, they pass in the order they were written (`priority`: the outbox
    ID), a refused one first again (it keeps its turn while it notes the attempt; without
    that, the next in line took the one slot the limit had and the refused message lost every
    round): under a rate limit a broadcast's breadth-first order (one contact of every
    country before a second of any) is the order of delivery. A send that keeps its turn and
    then gives up must say so (`forget`).
    """

    CALM_AFTER = 5  # consecutive successes before sends run in parallel again

    def __init__(self) -> None:
        self._open_at = 0.0
        self._calm = self.CALM_AFTER
        self._backoff = Backoff()
        self._waiting: list[tuple[int, int, asyncio.Future]] = []  # a heap, by priority
        self._order = itertools.count()
        self._busy = False
        self._kept: dict[int, asyncio.Future] = {}  # turns kept for refused sends

    @contextlib.asynccontextmanager
    async def passage(self, priority: int = 0) -> AsyncIterator[Turn]:
        calm = self._calm >= self.CALM_AFTER and not self._busy and not self._waiting
        if calm and priority not in self._kept:
            yield Turn()
            return
        turn = self._kept.pop(priority, None)
        if turn is None:
            turn = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (priority, next(self._order), turn))
            self._next()
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # it was our turn: give it on
                self._busy = False
                self._next()
            raise
        passing = Turn()
        try:
            delay = self._open_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            yield passing
        finally:
            if passing.kept:  # first in line again, before anyone else is let through
                again = asyncio.get_running_loop().create_future()
                self._kept[priority] = again
                heapq.heappush(self._waiting, (priority, -1, again))
            self._busy = False
            self._next()

    def forget(self, priority: int) -> None:
        """A send that kept its turn will not come back (it failed, or was sent): the
        gate lets the next one through."""
        turn = self._kept.pop(priority, None)
        if turn is None:
            return
        if turn.done():  # the gate is waiting for it
            self._busy = False
            self._next()
        else:
            turn.cancel()

    def _next(self) -> None:
        """Let the first waiter through, unless a send is passing."""
        while not self._busy and self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():
                self._busy = True
                turn.set_result(None)

    def limited(self, seconds: float) -> None:
        self._calm = 0
        self._open_at = max(self._open_at, time.monotonic() + seconds)

    def failed(self) -> float:
        """The homeserver failed a send (5xx, network): every send waits; returns how long."""
        delay = self._backoff.next_delay()
        self.limited(delay)
        return delay

    def passed(self) -> None:
        self._calm += 1
        self._backoff.reset()


class Sender:
    def __init__(
        self,
        client: AsyncClient,
        deliveries: Deliveries,
        devices: DeviceTracker,
        handoff: Arrivals,
        *,
        direct_room: Callable[[str], Awaitable[str | None]],
        fresh_direct: Callable[[str, str], Awaitable[str | None]],
        admits: Callable[[Queued], Awaitable[Admission]],
        on_refused: Callable[[], None],
        clock: Callable,
        faults: CrashPoints,
        render_file: Callable[[str, dict, str | None], bytes],
        metrics: Metrics,
        concurrency: int = 8,
        on_rate_limited: Callable[[float], Awaitable[None]] | None = None,
        acting: Callable[[], bool] | None = None,
    ) -> None:
        self.client, self.deliveries, self.devices = client, deliveries, devices
        self.handoff = handoff
        self.on_rate_limited = on_rate_limited
        self.direct_room, self.on_refused = direct_room, on_refused
        self.fresh_direct, self.admits = fresh_direct, admits
        self.render_file = render_file
        self.metrics = metrics
        self.clock, self.faults = clock, faults
        self.acting = acting  # of two sites: marks and recovery (bot.matrix.fence stops sends)
        self.ready = asyncio.Event()  # set once the first sync has told us our rooms
        self._limit = asyncio.Semaphore(concurrency)
        self._rooms: dict[str, asyncio.Task] = {}
        self._queues: dict[str, deque[Queued]] = {}
        self._queued: set[int] = set()  # queued, being sent or sent but not yet marked
        self._marks: list[tuple[int, str, datetime]] = []
        self._flusher: asyncio.Task | None = None
        self.gate = RateGate()
        self.sent = 0
        self.backlog = 0  # messages taken up and not yet sent (or given up on)

    def submit(self, messages: Iterable[Queued]) -> None:
        """Queue messages just committed, without reading them back from the database."""
        for message in messages:
            if message.key in self._queued:
                continue
            self._queued.add(message.key)
            self.backlog += 1
            # A person's DM may not be known yet: their messages queue under their name.
            lane = message.room_id or f"to {message.to_user}"
            self._queues.setdefault(lane, deque()).append(message)
            running = self._rooms.get(lane)
            if running is None or running.done():
                self._rooms[lane] = asyncio.create_task(self._drain(lane))

    async def run(self) -> None:
        """Send what commands and jobs hand over as they commit; and, as a safety net, what
        is pending in the outbox (at start, and every IDLE_POLL seconds)."""
        await self.ready.wait()
        if self.acting is not None:
            await self.recover()
        loop = asyncio.get_running_loop()
        try:
            while True:
                self.submit(await self.deliveries.pending(limit=1000))  # no emails
                deadline = loop.time() + IDLE_POLL
                while (left := deadline - loop.time()) > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.handoff.ready.wait(), left)
                    self.submit(self.handoff.take())
        finally:
            for task in self._rooms.values():
                task.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.shield(self.flush_marks())  # a clean stop records them all

    async def _drain(self, lane: str) -> None:
        """One room's messages, in order; rooms in parallel up to the bound."""
        await self.ready.wait()
        queue = self._queues[lane]
        while queue:
            message = queue.popleft()
            try:
                async with self._limit:
                    await self._send(message)
            except Exception as exc:  # a bug must not strand the message: the next re-read
                log_failure(log, f"send of {message.txn_id}", exc)  # of the outbox retries it
                self._queued.discard(message.key)
            finally:
                self.backlog -= 1

    async def _send(self, message: Queued) -> None:
        try:
            await self._send_one(message)
        except Fenced:  # of two sites, anywhere on its way: it stays pending for the other
            log.warning("%s not sent: this node no longer acts", message.txn_id)
            self._queued.discard(message.key)
        finally:
            self.gate.forget(message.key)  # a turn kept for it is not held for ever

    async def _send_one(self, message: Queued) -> None:
        content = json.loads(message.content)
        backoff = Backoff()
        upload: dict | None = None
        if message.room_id is None and not await self._open_direct(message):
            return
        assert message.room_id is not None
        refused = await self._refused(message, self.client.rooms.get(message.room_id))
        if refused is not None:
            await self._fail(message, refused)
            return
        while True:
            room = await self._room(message.room_id)
            gone = "the bot is not in that room" if room is None else self._left(message, room)
            if gone is not None:
                await self._fail(message, gone)
                return
            assert room is not None
            try:
                if message.kind == "file" and upload is None:
                    upload = await self._upload(content, room.encrypted)
                response = await self._attempt(message, room, upload or content)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                delay = self.gate.failed()  # the gate holds every send, this one included
                await self._retry(message, type(exc).__name__, delay, wait=False)
                continue
            except LocalProtocolError as exc:  # a local state nio may get out of by itself
                await self._retry(message, type(exc).__name__, backoff.next_delay())
                continue
            except _Rejected as exc:
                await self._fail(message, str(exc))
                return
            if await self._settled(message, response):
                return

    def _left(self, message: Queued, room: MatrixRoom) -> str | None:
        if message.to_user is not None and message.to_user not in room.users:
            # They left (or refused) the direct chat: sent there, it would reach nobody.
            return f"{message.to_user} has left the direct chat"
        return None

    async def _refused(self, message: Queued, known: MatrixRoom | None) -> str | None:
        """Why a message may not go where it was written for (None: it may)."""
        if known is not None and (left := self._left(message, known)) is not None:
            return left
        if not await self._admitted(message):
            # Written for readers this room no longer has only (someone joined or was
            # invited, it became public or unencrypted, a person left the roster): it is not
            # sent, and it is said.
            return "the room's readers changed since it was written"
        return None

    async def _attempt(self, message: Queued, room: MatrixRoom, content: dict) -> Any:
        """One try, in its turn at the gate."""
        if message.kind == "pin":
            return await self._pin(message, room, content)
        await self.devices.prepare(room)
        async with self.gate.passage(message.key) as turn:  # (fenced where it leaves nio)
            response = await self.client.room_send(
                room.room_id,
                message.event_type,
                self._marked(content, message),
                tx_id=message.txn_id,
                ignore_unverified_devices=True,
            )
            if retry_after(response) is not None:
                turn.again()  # first in line when the limit allows the next
        return response

    async def _pin(self, message: Queued, room: MatrixRoom, content: dict) -> Any:
        """Pin or unpin one event: the room's pinned events as they stand now, with it added
        or taken away (others' pins are kept)."""
        current = await self.client.room_get_state_event(room.room_id, message.event_type)
        pinned = (
            list(current.content.get("pinned") or [])
            if isinstance(current, RoomGetStateEventResponse) else []
        )  # fmt: skip
        target = content["event_id"]
        wanted = [p for p in pinned if p != target] + ([target] if content["pin"] else [])
        async with self.gate.passage(message.key) as turn:
            response = await self.client.room_put_state(
                room.room_id, message.event_type, {"pinned": wanted}
            )
            if retry_after(response) is not None:
                turn.again()
        return response

    def _marked(self, content: dict, message: Queued) -> dict:
        if self.acting is None:
            return content
        return {**content, OUTBOX_FIELD: message.txn_id}

    async def recover(self) -> None:
        """On taking over from the other site: what it sent but had not recorded as sent is
        found in its room (its content carries its outbox ID) and recorded, not sent again."""
        pending = [m for m in await self.deliveries.pending(limit=1000) if m.kind != "pin"]
        wanted = {m.txn_id: m for m in pending if m.room_id}
        found: dict[str, str] = {}
        for room_id in sorted({m.room_id for m in wanted.values() if m.room_id}):
            found.update(await self._sent_in(room_id, set(wanted)))
        marks = [(wanted[txn].key, event, self.clock()) for txn, event in found.items()]
        if marks:
            await self.deliveries.mark_sent(marks)
            log.warning("%d message(s) the other node sent but had not recorded: not sent "
                        "again", len(marks))  # fmt: skip
        log.info("take-over: %d pending message(s) checked in their rooms", len(wanted))

    async def _sent_in(self, room_id: str, wanted: set[str]) -> dict[str, str]:
        """Outbox ID -> event ID of the bot's own recent messages in `room_id`."""
        found: dict[str, str] = {}
        token = self.client.next_batch
        for _ in range(RECOVER_PAGES):
            try:
                response = await self.client.room_messages(
                    room_id, start=token, direction=MessageDirection.back, limit=100
                )
            except (aiohttp.ClientError, TimeoutError, OSError):
                break
            if not isinstance(response, RoomMessagesResponse):
                break
            for event in response.chunk:
                content = event.source.get("content") or {}
                txn = content.get(OUTBOX_FIELD) if event.sender == self.client.user_id else None
                if txn in wanted:
                    found[txn] = event.event_id
            if not response.chunk or not response.end:
                break
            token = response.end
        return found

    async def _settled(self, message: Queued, response: Any) -> bool:
        """Sent, or refused for good (True); or to be tried again, as the homeserver asks."""
        if isinstance(response, RoomSendResponse | RoomPutStateResponse):
            self.gate.passed()
            self.faults.hit("after-send")
            self._mark_sent(message, response.event_id)
            self.sent += 1
            self.metrics.message_sent(message.ref)
            log.info("sent %s to %s as %s", message.txn_id, message.room_id, response.event_id)
            return True
        wait = retry_after(response)
        if wait is not None:
            self.gate.limited(wait)
            if self.on_rate_limited is not None:
                await self.on_rate_limited(wait)
            await self._retry(message, str(response.status_code), wait, wait=False)
            return False
        if is_transient(response):
            delay = self.gate.failed()
            await self._retry(message, str(response.status_code), delay, wait=False)
            return False
        await self._fail(message, f"{response.status_code}: {response.message}")
        return True

    def _mark_sent(self, message: Queued, event_id: str) -> None:
        """Record a delivery; marks are written in batches, off the reply's path.

        Losing one in a crash costs nothing: the message is sent again with its transaction
        ID and the homeserver answers with the same event instead of posting it twice.
        """
        self._marks.append((message.key, event_id, self.clock()))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_marks())

    async def _flush_marks(self) -> None:
        # Until none is left: a send that finishes while a batch is being written adds to
        # the next batch, and no other flusher is started while this one runs.
        while self._marks:
            await asyncio.sleep(MARK_DELAY)
            await self.flush_marks()

    async def flush_marks(self) -> None:
        marks, self._marks = self._marks, []
        if not marks:
            return
        await self.deliveries.mark_sent(marks)
        # Only now can a re-read of the outbox no longer see them as pending.
        self._queued.difference_update(m[0] for m in marks)

    async def _upload(self, spec: dict, encrypted: bool) -> dict:
        """Render the file, upload it (encrypted in an encrypted room); the event content."""
        try:
            data = await asyncio.to_thread(
                self.render_file, spec["renderer"], spec["data"], spec.get("lang")
            )
        except Exception as exc:
            log_failure(log, f"rendering {spec['filename']}", exc)
            raise _Rejected("the file could not be rendered") from None
        response, keys = await self.client.upload(
            io.BytesIO(data),
            content_type=spec["mimetype"],
            filename=spec["filename"],
            encrypt=encrypted,
            filesize=len(data),
        )
        if not isinstance(response, UploadResponse):
            if retry_after(response) is not None or is_transient(response):
                raise aiohttp.ClientError(f"upload failed: {response.status_code}")
            raise _Rejected(f"upload refused: {response.status_code}")
        if encrypted:
            where = {"file": {"url": response.content_uri, "mimetype": spec["mimetype"], **keys}}
        else:
            where = {"url": response.content_uri}
        return file_content(spec, len(data), where)

    async def _room(self, room_id: str) -> MatrixRoom | None:
        waited = 0.0
        while room_id not in self.client.rooms and waited < ROOM_WAIT:
            await asyncio.sleep(0.1)
            waited += 0.1
        return self.client.rooms.get(room_id)

    async def _retry(
        self, message: Queued, error: str, delay: float, *, wait: bool = True
    ) -> None:
        """Note a failed attempt; then wait here, or (wait=False) at the gate with the rest."""
        log.warning("send of %s failed (%s); retrying in %.1fs", message.txn_id, error, delay)
        await self.deliveries.note_attempt(message.key, error)
        if wait:
            await asyncio.sleep(delay)

    async def _admitted(self, message: Queued) -> bool:
        """The gate, once more, as the message leaves: its seal against the room's readers
        now. A person's DM that someone else was let into is left for a fresh one."""
        verdict = await self.admits(message)
        if verdict is Admission.FRESH_DM and message.to_user and message.room_id:
            fresh = await self.fresh_direct(message.to_user, message.room_id)
            if fresh is None:
                return False
            await self.deliveries.set_room(message.key, fresh)
            message.room_id = fresh
            verdict = await self.admits(message)
        return verdict is Admission.SEND

    async def _open_direct(self, message: Queued) -> bool:
        """The DM a person's message goes to, opened if there is none; recorded on the row."""
        assert message.to_user is not None
        room_id = await self.direct_room(message.to_user)
        if room_id is None:
            await self._fail(message, f"no direct message with {message.to_user} could be opened")
            return False
        await self.deliveries.set_room(message.key, room_id)
        message.room_id = room_id
        return True

    async def _fail(self, message: Queued, error: str) -> None:
        where = message.room_id or message.to_user
        log.error("message %s to %s rejected: %s", message.txn_id, where, error)
        await self.deliveries.mark_failed(message.key, error)
        self._queued.discard(message.key)
        self.metrics.message_failed(message.ref)
        if message.report_to:
            self.on_refused()
