"""Which rooms the bot belongs in (the committee's pinned rooms, rooms someone the committee
knows invited it to), what each is to the committee, and the bot's DMs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiohttp
from nio import (
    AsyncClient,
    InviteInfo,
    InviteMemberEvent,
    JoinResponse,
    MatrixRoom,
    ProfileGetResponse,
    RoomCreateResponse,
)

from bot.matrix.backoff import Backoff, is_transient, retry_after
from bot.matrix.committee import CommitteeRooms
from bot.matrix.ports import Memory, People
from commands.values import RoomFacts, RoomKind

log = logging.getLogger(__name__)

PROFILE_WITHIN = 5.0  # seconds to tell whether a user exists

CREATE_ATTEMPTS = 8
DM_TOPIC = "Direct messages from the RCC bot"  # how the bot knows a DM it opened
INVITE_WAIT = 30.0  # seconds; a new room and its invite reach the bot with its next syncs

ENCRYPTION = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}
# A DM the bot opens: a person let in later reads nothing said before (TLP:RED may go there).
SINCE_INVITED = {
    "type": "m.room.history_visibility",
    "state_key": "",
    "content": {"history_visibility": "invited"},
}


def members(client: AsyncClient, room: MatrixRoom) -> frozenset[str]:
    """Everyone who can read the room but the bot: joined and invited."""
    return frozenset(room.users) - {client.user_id}


# Join rules that let someone in whom no member invited, and history that new members read.
OPEN_DOORS = ("knock", "restricted", "knock_restricted")
READ_BACK = ("shared", "world_readable")


def room_facts(client: AsyncClient, room_id: str) -> RoomFacts | None:
    """What the rules of need-to-know must know of a room, now."""
    room = client.rooms.get(room_id)
    if room is None:
        return None
    public = room.join_rule == "public" or room.history_visibility == "world_readable"
    return RoomFacts(
        room_id,
        members(client, room),
        bool(room.encrypted),
        public,
        open_door=room.join_rule in OPEN_DOORS,
        history_shared=room.history_visibility in READ_BACK,
    )


def joined(client: AsyncClient, user_id: str, room_id: str) -> bool | None:
    """Whether the user has joined the room (invited only: False), as the bot's sync knows
    it; None for a room the bot is not in."""
    room = client.rooms.get(room_id)
    if room is None:
        return None
    return user_id in room.users and user_id not in room.invited_users


async def user_exists(client: AsyncClient, user_id: str) -> bool | None:
    """Whether the user's homeserver knows them (their profile), within a few seconds; None
    when it cannot be told (unreachable, or profiles are not shown to the bot)."""
    try:
        async with asyncio.timeout(PROFILE_WITHIN):
            response = await client.get_profile(user_id)
    except (TimeoutError, aiohttp.ClientError, OSError):
        return None
    if isinstance(response, ProfileGetResponse):
        return True
    transport = getattr(response, "transport_response", None)
    missing = getattr(response, "status_code", None) == "M_NOT_FOUND"
    return False if missing or getattr(transport, "status", None) == 404 else None


class RoomDirectory:
    """The rooms the bot is in: which it joins, what each is to the committee, the DMs."""

    def __init__(
        self,
        client: AsyncClient,
        committee: CommitteeRooms,
        *,
        memory: Memory,
        people: People,
        on_replaced: Callable[[str, str], Awaitable[None]] | None = None,
    ) -> None:
        self.client, self.committee, self.memory, self.people = client, committee, memory, people
        self.on_replaced = on_replaced  # a person's DM was replaced: the core tells them
        self._locks: dict[str, asyncio.Lock] = {}
        self._directs: dict[str, str] = {}  # user ID -> DM room ID, as stored (read once)

    def kind(self, room: MatrixRoom, sender: str) -> RoomKind:
        """What the room is to the committee. A DM is the bot and the sender alone, invited
        people counted: keys are shared with them too."""
        pinned = self.committee.kind_of(room.room_id)
        if pinned is not None:
            return pinned
        return RoomKind.DIRECT if self.members(room) == {sender} else RoomKind.OTHER

    def members(self, room: MatrixRoom) -> frozenset[str]:
        return members(self.client, room)

    def facts(self, room_id: str) -> RoomFacts | None:
        return room_facts(self.client, room_id)

    async def handle_invite(self, room_id: str, info: InviteInfo) -> tuple[str | None, bool]:
        """Join a pinned committee room (or its announced successor) on anyone's invite, any
        other room only on the invite of someone the committee knows; decline the rest.
        Returns the inviter and whether the bot joined."""
        me = self.client.user_id
        inviter = next(
            (
                e.sender
                for e in info.invite_state
                if isinstance(e, InviteMemberEvent) and e.state_key == me
            ),
            None,
        )
        on_roster = inviter is not None and await self.people.knows(inviter)
        if not (on_roster or self.committee.joins_on_any_invite(room_id)):
            await self.client.room_leave(room_id)
            return inviter, False
        response = await self.client.join(room_id)
        joined = isinstance(response, JoinResponse)
        if joined:
            await self.committee.joined(room_id, by_roster_member=on_roster)
        else:
            log.warning("joining %s failed: %s", room_id, getattr(response, "status_code", ""))
        return inviter, joined

    async def direct_room(self, user_id: str) -> str | None:
        """The encrypted DM with a user, created (and remembered) when there is none yet.

        One at a time per user, so two jobs never open two rooms with the same person.
        """
        async with self._locks.setdefault(user_id, asyncio.Lock()):
            known = self._directs.get(user_id)
            if known is None:
                known = await self.memory.direct_room(user_id)
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
                await self.memory.set_direct_room(user_id, known)
                self._directs[user_id] = known
            if new:
                await self._until_invite_seen(known, user_id)
            return known

    async def fresh_direct(self, user_id: str, spoiled: str) -> str | None:
        """A new DM with the person, in place of `spoiled` (someone else was let into it):
        it is their DM from now on, and they are told once, there."""
        async with self._locks.setdefault(user_id, asyncio.Lock()):
            known = self._directs.get(user_id)
            if known is not None and known != spoiled and self._pure(known, user_id):
                return known  # replaced already, by another message's turn
            room = await self._create_direct(user_id)
            if room is None:
                return None
            await self.memory.set_direct_room(user_id, room)
            self._directs[user_id] = room
            await self._until_invite_seen(room, user_id)
        log.warning(
            "the DM %s had someone else in it: a fresh one, %s, replaces it", spoiled, room
        )
        if self.on_replaced is not None:
            await self.on_replaced(user_id, spoiled)
        return room

    def _pure(self, room_id: str, user_id: str) -> bool:
        room = self.client.rooms.get(room_id)
        return room is not None and self.members(room) == {user_id}

    def _unrecorded_direct(self, user_id: str) -> str | None:
        """A DM the bot opened with this person but did not get to record (it stopped in
        between): its topic says so, and the bot and the person alone are in it."""
        me = self.client.user_id
        for room in self.client.rooms.values():
            if room.topic == DM_TOPIC and room.encrypted and set(room.users) == {me, user_id}:
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
                    is_direct=True,
                    invite=[user_id],
                    initial_state=[ENCRYPTION, SINCE_INVITED],
                    topic=DM_TOPIC,
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
