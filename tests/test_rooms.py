"""Opening a DM: nothing is sent into it before the bot has seen the invitee in it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

from nio import RoomCreateResponse

from bot.matrix.committee import CommitteeRooms
from bot.matrix.rooms import DM_TOPIC, RoomDirectory
from devkit.synapse import wait_for
from tests.helpers import ledger_for

DM = "!dm:test.org"
JM = "@jm:test.org"
NOW = datetime(2026, 11, 2, tzinfo=UTC)


def directory(client, db) -> RoomDirectory:
    ledger = ledger_for(db, clock=lambda: NOW)
    committee = CommitteeRooms(client, ledger, {}, configured={})
    return RoomDirectory(client, committee, memory=ledger, people=ledger)


class Members(dict):
    """A room's members, counting how often someone looked for one."""

    looked = 0

    def __contains__(self, user_id: object) -> bool:
        self.looked += 1
        return super().__contains__(user_id)


class SlowStateHomeserver:
    """Creates a room whose state reaches the client in two syncs: the invite comes last,
    as Synapse can show a room between writing its first events and its invite."""

    def __init__(self) -> None:
        self.user_id = "@bot:test.org"
        self.members = Members({self.user_id: None})
        self.rooms: dict = {}

    async def room_create(self, **_):
        self.rooms[DM] = SimpleNamespace(room_id=DM, users=self.members, topic=DM_TOPIC)
        return RoomCreateResponse(DM)


async def test_a_new_dm_is_handed_out_once_its_invite_is_seen(db):
    client = SlowStateHomeserver()
    rooms = directory(client, db)
    opening = asyncio.create_task(rooms.direct_room(JM))
    await wait_for(lambda: client.members.looked >= 3 or opening.done(), interval=0.01)
    assert not opening.done(), "a message sent now would be encrypted for the bot alone"
    client.members[JM] = None  # the next sync brings the invite
    assert await asyncio.wait_for(opening, 60) == DM


class OneRoomHomeserver:
    """The bot is already in an encrypted room with JM alone, recorded nowhere."""

    def __init__(self) -> None:
        self.user_id = "@bot:test.org"
        members = {self.user_id: None, JM: None}
        self.rooms = {
            DM: SimpleNamespace(room_id=DM, users=members, encrypted=True, topic=DM_TOPIC),
            "!rcc:t.org": SimpleNamespace(room_id="!rcc:t.org", users=members, encrypted=True,
                                          topic=None),  # two people in a room: not a DM
        }  # fmt: skip

    async def room_create(self, **_):
        raise AssertionError("a second DM with the same person")


async def test_a_dm_opened_before_a_crash_is_used_not_opened_again(db):
    rooms = directory(OneRoomHomeserver(), db)
    assert await rooms.direct_room(JM) == DM
    async with db.unit(write=False) as store:
        assert await store.rooms.direct_room(JM) == DM  # and recorded now
