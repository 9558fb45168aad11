"""Which rooms the bot belongs in: the configured rooms, invites from roster members, DMs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import aiohttp
from nio import (
    AsyncClient,
    InviteAliasEvent,
    InviteInfo,
    InviteMemberEvent,
    JoinResponse,
    MatrixRoom,
    RoomCreateResponse,
    RoomResolveAliasResponse,
)

from bot.matrix.backoff import Backoff, is_transient, retry_after
from commands.values import RoomKind
from storage.db import Database

log = logging.getLogger(__name__)

RETRY_ALIAS = 60.0
CREATE_ATTEMPTS = 8
INVITE_WAIT = 30.0  # seconds; a new room and its invite reach the bot with its next syncs

ENCRYPTION = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


class RoomDirectory:
    def __init__(
        self,
        client: AsyncClient,
        db: Database,
        *,
        rcc_room: str,
        steering_room: str,
        clock: Callable,
    ) -> None:
        self.client, self.db, self.clock = client, db, clock
        self.rcc_room, self.steering_room = rcc_room, steering_room
        self._configured = (rcc_room, steering_room)  # room IDs or aliases, as configured
        self._ids: dict[str, str] = {r: r for r in self._configured if r.startswith("!")}
        self._unresolved: dict[str, float] = {}  # alias -> when resolving last failed
        self.known: dict[RoomKind, str] = {}  # the committee's rooms, shared with commands
        self._locks: dict[str, asyncio.Lock] = {}
        self._directs: dict[str, str] = {}  # user ID -> DM room ID, as stored (read once)

    async def named(self, name: RoomKind) -> str | None:
        """The room ID of the RCC or the Steering Committee room."""
        configured = {RoomKind.RCC: self.rcc_room, RoomKind.STEERING: self.steering_room}[name]
        room_id = await self.room_id(configured)
        if room_id is not None:
            self.known[name] = room_id
        return room_id

    async def room_id(self, configured: str) -> str | None:
        """The room ID of a configured room (an alias is resolved once, when first needed)."""
        if configured in self._ids:
            return self._ids[configured]
        if time.monotonic() - self._unresolved.get(configured, -RETRY_ALIAS) < RETRY_ALIAS:
            return None  # not on every message: an alias that does not exist yet is retried
        response = await self.client.room_resolve_alias(configured)
        if not isinstance(response, RoomResolveAliasResponse):
            self._unresolved[configured] = time.monotonic()
            return None
        self._ids[configured] = response.room_id
        return response.room_id

    async def refresh(self) -> None:
        """Resolve the configured rooms again now (a room the bot just joined may be one)."""
        self._unresolved.clear()
        for name in (RoomKind.RCC, RoomKind.STEERING):
            await self.named(name)

    async def kind(self, room: MatrixRoom) -> RoomKind:
        """What the room is to the committee: what TLP and the commands need to know."""
        for kind in (RoomKind.RCC, RoomKind.STEERING):
            if room.room_id == await self.named(kind):
                return kind
        return RoomKind.DIRECT if room.joined_count <= 2 else RoomKind.OTHER

    async def is_configured(self, room_id: str, aliases: set[str]) -> bool:
        if aliases & set(self._configured):
            return True
        for entry in self._configured:
            if await self.room_id(entry) == room_id:
                return True
        return False

    async def handle_invite(self, room_id: str, info: InviteInfo) -> tuple[str | None, bool]:
        """Join when the room is configured or the inviter is on the roster, else decline.

        Returns the inviter and whether the bot joined.
        """
        me = self.client.user_id
        inviter, aliases = None, set()
        for event in info.invite_state:
            if isinstance(event, InviteMemberEvent) and event.state_key == me:
                inviter = event.sender
            elif isinstance(event, InviteAliasEvent) and event.canonical_alias:
                aliases.add(event.canonical_alias)
        async with self.db.unit(write=False) as store:
            on_roster = inviter is not None and await store.roster.member(inviter) is not None
        if on_roster or await self.is_configured(room_id, aliases):
            response = await self.client.join(room_id)
            joined = isinstance(response, JoinResponse)
            if not joined:
                log.warning("joining %s failed: %s", room_id, getattr(response, "status_code", ""))
            else:
                await self.refresh()
            return inviter, joined
        await self.client.room_leave(room_id)
        return inviter, False

    async def direct_room(self, user_id: str) -> str | None:
        """The encrypted DM with a user, created (and remembered) when there is none yet.

        One at a time per user, so two jobs never open two rooms with the same person.
        """
        async with self._locks.setdefault(user_id, asyncio.Lock()):
            known = self._directs.get(user_id)
            if known is None:
                async with self.db.unit(write=False) as store:
                    known = await store.rooms.direct_room(user_id)
            if known is None or known not in self.client.rooms:
                # One the bot opened but did not get to record (it stopped in between).
                known = self._unrecorded_direct(user_id)
            if known is not None:
                new = False
            else:
                known, new = await self._create_direct(user_id), True
                if known is None:
                    return None
            if self._directs.get(user_id) != known:
                async with self.db.unit() as store:
                    await store.rooms.set_direct_room(user_id, known, now=self.clock())
                self._directs[user_id] = known
            if new:
                await self._until_invite_seen(known, user_id)
            return known

    def _unrecorded_direct(self, user_id: str) -> str | None:
        """An encrypted room of the bot and this person alone (joined or invited), if any:
        one the bot opened without getting to record it, or one the person opened."""
        me = self.client.user_id
        for room in self.client.rooms.values():
            if room.encrypted and set(room.users) == {me, user_id}:
                return room.room_id
        return None

    async def _until_invite_seen(self, room_id: str, user_id: str) -> None:
        """Wait until a sync has shown the new room with the invitee in it.

        Synapse writes a new room's events one by one, and a sync in between can show the
        room before the invite: a message sent then is encrypted for nobody but the bot, and
        the invitee could never read it.
        """
        waited = 0.0
        while waited < INVITE_WAIT:
            room = self.client.rooms.get(room_id)
            if room is not None and user_id in room.users:
                return
            await asyncio.sleep(0.1)
            waited += 0.1
        log.warning("the new DM %s does not show %s's invite yet", room_id, user_id)

    async def _create_direct(self, user_id: str) -> str | None:
        backoff = Backoff()
        for _ in range(CREATE_ATTEMPTS):
            try:
                response = await self.client.room_create(
                    is_direct=True, invite=[user_id], initial_state=[ENCRYPTION]
                )
            except (aiohttp.ClientError, TimeoutError, OSError):
                response = None
            if isinstance(response, RoomCreateResponse):
                return response.room_id
            wait = retry_after(response)  # homeservers rate-limit room creation
            if wait is None and response is not None and not is_transient(response):
                log.warning("could not open a DM with %s: %s", user_id, response.status_code)
                return None
            await asyncio.sleep(wait if wait is not None else backoff.next_delay())
        return None

    async def open_directs(self, users: list[str]) -> int:
        """Open DMs ahead of need (an emergency should not wait for room creation)."""
        opened = 0
        for user in users:
            if await self.direct_room(user) is not None:
                opened += 1
        return opened
