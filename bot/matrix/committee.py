"""The RCC and Steering Committee rooms, pinned by room ID.

A room configured by alias is pinned the first time the bot joins the room the alias names,
invited there by a roster member; after that the alias is only checked: if it comes to name
another room (a squatter, a mistake), the bot stays where it is, logs it and the chair is
told. A configured room ID is pinned from the start. When a pinned room is upgraded (a
tombstone), the bot follows into the successor it names only once invited there, and the
chair is told both times. What it sees is kept, and reported, through the `Memory` port: the
core makes each change known to the chair, once.
"""

from __future__ import annotations

import logging

from nio import AsyncClient, RoomResolveAliasResponse

from bot.matrix.ports import Memory, RoomChange
from commands.values import RoomKind

log = logging.getLogger(__name__)

PIN = "room:{kind}"  # bot_state key of a pinned room
SUCCESSOR = "successor:{kind}"  # a pinned room's announced successor, not joined yet
MOVED = "alias-moved:{kind}"  # the room an alias was last seen naming, told already
KEPT = "room-kept:{kind}"  # how a pinned room was last seen kept: "join rule/history"
# Wider than invitation only, and history read back by new members: who else may read.
WIDE_JOIN = ("public", "knock", "restricted", "knock_restricted")
WIDE_HISTORY = ("shared", "world_readable")


class CommitteeRooms:
    def __init__(
        self,
        client: AsyncClient,
        memory: Memory,
        known: dict[RoomKind, str],
        *,
        configured: dict[RoomKind, str],
    ) -> None:
        self.client, self.memory = client, memory
        self.configured = configured  # room ID or alias, by kind
        self.known = known  # pinned room IDs, written here alone (the core reads a view)
        self.successors: dict[RoomKind, str] = {}

    async def load(self) -> None:
        """The pins kept from earlier runs; configured room IDs are pinned as they are."""
        for kind, configured in self.configured.items():
            pinned = await self.memory.recall(PIN.format(kind=kind))
            if pinned is None and configured.startswith("!"):
                pinned = configured
                await self.memory.keep(PIN.format(kind=kind), pinned)
            if pinned is not None:
                self.known[kind] = pinned
            successor = await self.memory.recall(SUCCESSOR.format(kind=kind))
            if successor:  # "" once followed
                self.successors[kind] = successor

    def kind_of(self, room_id: str) -> RoomKind | None:
        return next((kind for kind, pinned in self.known.items() if pinned == room_id), None)

    def joins_on_any_invite(self, room_id: str) -> bool:
        """A pinned room, or the announced successor of one."""
        return room_id in self.known.values() or room_id in self.successors.values()

    async def joined(self, room_id: str, *, by_roster_member: bool) -> None:
        """After the bot joined a room: follow an upgrade, or pin an alias that names it."""
        for kind, successor in list(self.successors.items()):
            if successor == room_id:
                await self._pin(kind, room_id, notice="room_followed", old=self.known.get(kind))
                del self.successors[kind]
                return
        if not by_roster_member:
            return
        for kind, configured in self.configured.items():
            if kind not in self.known and await self._resolve(configured) == room_id:
                await self._pin(kind, room_id)

    async def check_aliases(self) -> None:
        """Compare each pinned alias with what it names now; a change is never followed."""
        for kind, pinned in list(self.known.items()):
            configured = self.configured[kind]
            if configured.startswith("!"):
                continue
            now = await self._resolve(configured)
            if now is None or now == pinned:
                continue
            if await self.memory.recall(MOVED.format(kind=kind)) == now:
                continue  # told already
            data = {"kind": str(kind), "alias": configured, "pinned": pinned, "names": now}
            change = RoomChange("alias_moved", data)
            await self.memory.keep(MOVED.format(kind=kind), now, change=change)
            log.error("%s now names %s; the bot stays in %s", configured, now, pinned)

    async def check_upgrades(self) -> None:
        """A tombstone in a pinned room: note its successor and tell the chair, once."""
        for kind, pinned in list(self.known.items()):
            room = self.client.rooms.get(pinned)
            successor = room.replacement_room if room is not None else None
            if not successor or self.successors.get(kind) == successor:
                continue
            self.successors[kind] = successor
            change = RoomChange(
                "room_upgraded", {"kind": str(kind), "old": pinned, "new": successor}
            )
            await self.memory.keep(SUCCESSOR.format(kind=kind), successor, change=change)
            log.warning("%s was upgraded to %s; waiting for an invite there", pinned, successor)

    async def check_readers(self) -> None:
        """A pinned room's join rule or history visibility changed to let more people read:
        the chair is told, once per change (nothing said there is taken back, and TLP:RED is
        refused there while it lasts)."""
        for kind, pinned in list(self.known.items()):
            room = self.client.rooms.get(pinned)
            if room is None:
                continue
            kept = f"{room.join_rule}/{room.history_visibility}"
            key = KEPT.format(kind=kind)
            before = await self.memory.recall(key)
            if before == kept:
                continue
            change = None
            if before is not None and _wider(before, kept):
                data = {"kind": str(kind), "room_id": pinned, "before": before, "now": kept}
                change = RoomChange("room_widened", data)
                log.warning("the %s room is read more widely now: %s", kind, kept)
            await self.memory.keep(key, kept, change=change)

    async def _pin(
        self, kind: RoomKind, room_id: str, *, notice: str | None = None, old: str | None = None
    ) -> None:
        data = {"kind": str(kind), "old": old, "new": room_id}
        change = RoomChange(notice, data) if notice is not None else None
        await self.memory.keep(PIN.format(kind=kind), room_id, change=change)
        if kind in self.successors:  # followed: the successor is forgotten, once pinned
            await self.memory.keep(SUCCESSOR.format(kind=kind), "")
        self.known[kind] = room_id
        log.info("the %s room is %s", kind, room_id)

    async def _resolve(self, configured: str) -> str | None:
        if configured.startswith("!"):
            return configured
        response = await self.client.room_resolve_alias(configured)
        return response.room_id if isinstance(response, RoomResolveAliasResponse) else None


def _wider(before: str, now: str) -> bool:
    """Whether a room kept as `now` ("join rule/history") lets more people read than as
    `before` did."""
    join_before, history_before = before.split("/", 1)
    join_now, history_now = now.split("/", 1)
    opened = join_now in WIDE_JOIN and join_before != join_now
    read_back = history_now in WIDE_HISTORY and history_before not in WIDE_HISTORY
    return opened or read_back or (history_now == "world_readable" != history_before)
