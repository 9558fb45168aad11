"""The bot's own sync loop: every event at least once, the processed-events table makes it once.

The sync token is saved only after the batch's commands are committed, so a crash re-reads
the batch rather than losing it. After a restart the first sync asks for full room state.
A `limited` timeline (more events than one sync returns) is completed from `/messages`.
Errors back off exponentially with jitter (never more than about one request a second);
429 answers are waited out as the homeserver asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from nio import AsyncClient, MessageDirection, RoomMemberEvent, RoomMessagesResponse, SyncResponse

from bot.logs import Quota
from bot.matrix.backoff import NETWORK_ERRORS, Backoff, retry_after
from bot.matrix.devices import DeviceTracker
from bot.matrix.fence import Fenced
from bot.matrix.inbox import HORIZON, Inbox
from bot.matrix.ports import Invites, Jobs, Memory
from bot.matrix.profiles import ProfileWatch
from bot.matrix.rooms import RoomDirectory
from bot.matrix.sender import Sender
from bot.matrix.session import SessionError
from bot.matrix.trust import CrossSigningTrust
from bot.metrics import Metrics

log = logging.getLogger(__name__)

SYNC_TOKEN = "sync_token"
TOKEN_EVERY = 2.0
LONG_POLL_MS = 30_000
GAP_PAGES = 50  # at most 5,000 events are fetched to fill one room's gap
# While a fan-out fills the outbox, every message sent wakes the bot's own long-poll and
# Synapse computes a sync for it, on the core that should be storing the sends. With more
# messages waiting than the sender has in flight (8), syncs are spaced out: a broadcast to
# 200 went from 1.41x to 1.22x of a bare nio sender. Commands and acks wait at most this
# much longer meanwhile.
BUSY_BACKLOG = 8
BUSY_SYNC_GAP = 0.25
# Only what the bot reads: timelines (100 events, so a burst is not cut short), state and
# to-device keys. No presence, receipts, typing or account data: less for Synapse to
# compute and for the bot to parse on every sync.
SYNC_FILTER = {
    "room": {
        "timeline": {"limit": 100},
        "ephemeral": {"types": []},
        "account_data": {"types": []},
    },
    "presence": {"types": []},
    "account_data": {"types": []},
}
DECLINES_LOGGED = 20  # declined invites logged and audited an hour; the rest only counted


class MatrixBot:
    """The sync loop, with the parts it drives: the inbox, the sender, the rooms, the jobs."""

    def __init__(
        self,
        client: AsyncClient,
        *,
        memory: Memory,
        invites: Invites,
        inbox: Inbox,
        sender: Sender,
        rooms: RoomDirectory,
        devices: DeviceTracker,
        trust: CrossSigningTrust,
        jobs: Jobs,
        metrics: Metrics,
        clock: Callable[[], datetime],
        directs_at_start: Callable[[], Awaitable[list[str]]] | None = None,
        profiles: ProfileWatch | None = None,
        acting: Callable[[], bool] | None = None,
    ) -> None:
        self.client, self.memory, self.invites = client, memory, invites
        self.inbox, self.sender, self.rooms, self.devices, self.jobs = (
            inbox,
            sender,
            rooms,
            devices,
            jobs,
        )
        self.trust = trust
        self._declines = Quota(DECLINES_LOGGED, 3600)
        self.metrics, self.clock = metrics, clock
        self.directs_at_start = directs_at_start  # whom to open a DM with, once running
        self.profiles = profiles  # people's own time zones, read once running
        # Of two sites: does this node act now (bot/ha.py)? A node that no longer does
        # handles nothing more and records no sync position: its run ends.
        self.acting = acting
        self.started_at = clock()
        self._jobs_started = False
        self._token: str | None = None  # the newest token handled, saved or not yet
        self._token_saved = 0.0
        self._background: list[asyncio.Task] = []
        self.requests = 0  # sync requests made, for tests and metrics
        self.sync_errors = 0
        self.last_sync = 0.0  # monotonic time of the last successful sync
        self.sync_ok = False  # did the last sync succeed (for /healthz)
        self.sync_started = time.monotonic()  # when the current sync request began

    async def run(self) -> None:
        """Sync until cancelled; the outbox sender and the jobs run beside it."""
        self.started_at = self.clock()
        await self.inbox.load()
        await self.rooms.committee.load()
        sender = asyncio.create_task(self.sender.run(), name="outbox-sender")
        try:
            await self._loop()
        finally:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                if self._token is not None:  # a clean stop keeps the newest token
                    await asyncio.shield(self._save_token(self._token, now=True))
            sender.cancel()
            for task in self._background:
                task.cancel()
            await self.jobs.stop()
            await asyncio.gather(sender, *self._background, return_exceptions=True)

    async def _loop(self) -> None:
        token = await self.memory.recall(SYNC_TOKEN)
        first_ever = token is None
        full_state = True
        backoff = Backoff()
        while True:
            self._fenced()
            if self.sender.backlog >= BUSY_BACKLOG:
                await asyncio.sleep(BUSY_SYNC_GAP)
            self.sync_started = time.monotonic()
            response = await self._sync(token, full_state)
            self.sync_ok = isinstance(response, SyncResponse)
            if not self.sync_ok:
                self.sync_errors += 1
                self.metrics.sync_errors.inc()
                await asyncio.sleep(self._delay(response, backoff))
                continue
            backoff.reset()
            self.last_sync = time.monotonic()
            self._fenced()
            await self._after_sync(response, token, first_ever)
            token, full_state, first_ever = response.next_batch, False, False

    def _fenced(self) -> None:
        if self.acting is not None and not self.acting():
            raise Fenced("this node no longer acts: the other site does")

    def _poll_ms(self, full_state: bool) -> int:
        """Long-poll time: shorter when a kept undecryptable event's notice falls due."""
        if full_state:
            return 0
        due = self.inbox.next_notice
        if due is None:
            return LONG_POLL_MS
        wait = (due - self.clock()).total_seconds() * 1000
        return int(min(LONG_POLL_MS, max(200, wait)))

    async def _sync(self, token: str | None, full_state: bool) -> Any:
        self.requests += 1
        try:
            return await self.client.sync(
                timeout=self._poll_ms(full_state),
                since=token,
                full_state=full_state,
                sync_filter=SYNC_FILTER,
            )
        except NETWORK_ERRORS as exc:
            log.warning("sync failed: %s", type(exc).__name__)
            return exc

    def _delay(self, response: Any, backoff: Backoff) -> float:
        if getattr(response, "status_code", None) == "M_UNKNOWN_TOKEN":
            raise SessionError("the homeserver no longer accepts the bot's access token")
        wait = retry_after(response)
        if wait is not None:
            log.warning("sync rate-limited; waiting %.1fs", wait)
            return wait
        delay = backoff.next_delay()
        if not isinstance(response, Exception):
            transport = getattr(response, "transport_response", None)
            status = response.status_code or getattr(transport, "status", None)
            log.warning("sync failed: %s; retrying in %.1fs", status, delay)
        return delay

    async def _after_sync(
        self, response: SyncResponse, since: str | None, first_ever: bool
    ) -> None:
        self.trust.forget(response.device_list.changed)  # new devices, signatures or keys
        if response.to_device_events:
            self.inbox.keys_arrived()
        await self._keys()
        for room_id, info in response.rooms.invite.items():
            inviter, joined = await self.rooms.handle_invite(room_id, info)
            await self._audit_invite(room_id, inviter, joined)
        if not self._jobs_started:
            await self._start_jobs()
        if first_ever:
            # The first sync's timeline is history. The horizon also covers what a later sync
            # may still return from before this start (Synapse can answer an initial sync
            # from its response cache, with a token from the past).
            log.info("first start: history before now is not handled as commands")
            await self._set_horizon()
        else:
            for room_id, info in response.rooms.join.items():
                room = self.client.rooms.get(room_id)
                if room is None:
                    continue
                log.debug("sync: %d event(s) in %s", len(info.timeline.events), room_id)
                for event in await self._timeline(room_id, info.timeline, since):
                    await self.inbox.handle(room, event)
            await self.inbox.retry_undecrypted()
        await self.rooms.committee.check_upgrades()
        await self.rooms.committee.check_readers()
        self.sender.ready.set()
        await self._save_token(response.next_batch, now=first_ever)

    async def _save_token(self, token: str, *, now: bool = False) -> None:
        """Persist the sync token after the batch's commands committed, at most every
        TOKEN_EVERY seconds: a crash then re-reads a few seconds of events, which the
        processed-events table turns away, and a busy room is not slowed by an fsync a sync."""
        self._token = token
        if not now and time.monotonic() - self._token_saved < TOKEN_EVERY:
            return
        if self.acting is not None and not self.acting():
            return  # the node that acts now keeps the position
        await self.memory.keep(SYNC_TOKEN, token)
        self._token_saved = time.monotonic()

    async def _start_jobs(self) -> None:
        """After the first sync, before anything in it is handled: the rooms are known, and
        every job resumes from the database whatever was due or left unfinished."""
        await self.rooms.committee.check_aliases()
        await self.jobs.start(self.started_at)
        self._jobs_started = True
        if self.directs_at_start is not None:
            self._background.append(asyncio.create_task(self._open_directs(), name="open-dms"))
        if self.profiles is not None:
            self._background.append(asyncio.create_task(self._watch_profiles(), name="profiles"))

    async def _watch_profiles(self) -> None:
        """People's zones, read once the first sync's commands are handled: they come first
        (a cold start's first answer waited 40–60 ms behind these requests and writes)."""
        assert self.profiles is not None
        await self.sender.ready.wait()
        await self.profiles.run()

    async def _open_directs(self) -> None:
        assert self.directs_at_start is not None
        users = sorted(set(await self.directs_at_start()) - {self.client.user_id})
        if not users:
            return
        opened = await self.rooms.open_directs(users)
        log.info("direct rooms ready with %d of %d people", opened, len(users))

    async def _set_horizon(self) -> None:
        horizon = self.started_at
        if await self.memory.recall(HORIZON) is None:
            await self.memory.keep(HORIZON, horizon.isoformat())
        self.inbox.horizon = horizon

    async def _keys(self) -> None:
        try:
            await self.devices.sync_keys()
        except NETWORK_ERRORS as exc:
            log.warning("key maintenance failed (%s); retried after the next sync", exc)

    async def _timeline(self, room_id: str, timeline: Any, since: str | None) -> list[Any]:
        events = list(timeline.events)
        if timeline.limited and since and self._own_join_index(events) is None:
            events = await self._fill_gap(room_id, timeline.prev_batch, since) + events
        joined_at = self._own_join_index(events)
        # Events before the bot's own join are history, never commands.
        return events if joined_at is None else events[joined_at + 1 :]

    def _own_join_index(self, events: list) -> int | None:
        found = None
        for index, event in enumerate(events):
            if (
                isinstance(event, RoomMemberEvent)
                and event.state_key == self.client.user_id
                and event.membership == "join"
                and event.prev_membership != "join"
            ):
                found = index
        return found

    async def _fill_gap(self, room_id: str, start: str | None, since: str) -> list:
        """Events between the last sync and this limited timeline, oldest first."""
        collected: list = []
        token = start
        for _ in range(GAP_PAGES):
            response = await self._messages(room_id, token, since)
            if response is None:
                break
            for event in response.chunk:
                collected.append(event)
                if self._own_join_index([event]) is not None:
                    return list(reversed(collected))
            if not response.chunk or not response.end or response.end == token:
                break
            token = response.end
        log.info("filled a gap of %d events in %s", len(collected), room_id)
        return list(reversed(collected))

    async def _messages(self, room_id: str, start: str | None, end: str) -> Any:
        backoff = Backoff()
        for _ in range(5):
            try:
                response = await self.client.room_messages(
                    room_id, start=start, end=end, direction=MessageDirection.back, limit=100
                )
            except NETWORK_ERRORS:
                response = None
            if isinstance(response, RoomMessagesResponse):
                return response
            await asyncio.sleep(retry_after(response) or backoff.next_delay())
        log.error("could not fill the gap in %s; some events may be missed", room_id)
        return None

    async def _audit_invite(self, room_id: str, inviter: str | None, joined: bool) -> None:
        # Invites from outsiders are declined all the same; only a few an hour are logged and
        # audited, so that a flood of invites does not flood the log and the audit table.
        if not joined and not self._declines.allow():
            return
        held = 0 if joined else self._declines.held()
        await self.invites.invited(room_id, inviter, joined)
        log.info("invite to %s from %s: %s", room_id, inviter, "joined" if joined else "declined")
        if held:
            log.info("%d more invites were declined without a log line", held)
