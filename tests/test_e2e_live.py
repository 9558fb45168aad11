"""A broadcast's live roll-call through Synapse (issue 37): one message in the RCC room, pinned
while the broadcast is open, edited in place as countries acknowledge, unpinned once every
country has answered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from nio import RoomGetStateEventResponse

from devkit.synapse import wait_for
from tests.helpers import ShiftedClock

pytestmark = pytest.mark.synapse


def relation(event) -> dict:
    return event.source.get("content", {}).get("m.relates_to") or {}


async def pinned(person, room: str) -> list[str]:
    found = await person.client.room_get_state_event(room, "m.room.pinned_events")
    return (
        list(found.content.get("pinned", []))
        if isinstance(found, RoomGetStateEventResponse)
        else []
    )


async def test_the_roll_call_is_one_pinned_message_edited_as_countries_answer(world):
    world.clock = clock = ShiftedClock()
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    tt = await world.person("tt", "ncpoc", "TT")
    runtime = await world.start_bot()
    rcc = await world.rcc_room(chair, [jm, tt])
    levels = await chair.client.room_get_state_event(rcc, "m.room.power_levels")
    content = dict(levels.content)
    content["users"] = {**content.get("users", {}), world.bot_id: 50}  # may pin
    await chair.client.room_put_state(rcc, "m.room.power_levels", content)
    for person in (jm, tt):
        person.accept_invites()
    await chair.say(rcc, "!broadcast severity=critical Patch the VPN appliances now")

    def roll_calls():
        return [
            e for r, e in jm.messages
            if r == rcc and e.sender == world.bot_id and "countries acknowledged" in e.body
            and not relation(e).get("rel_type")
        ]  # fmt: skip

    (first,) = await wait_for(roll_calls)
    assert "0/2 countries acknowledged" in first.body
    await wait_for(lambda: _has(pinned(chair, rcc), first.event_id))
    dm = await wait_for(lambda: [r for r, e in jm.messages if r != rcc and "BC-1" in e.body])
    await jm.ask(dm[0], "!ack BC-1")

    def edits(text: str):
        return [
            e for r, e in jm.messages
            if r == rcc and relation(e).get("rel_type") == "m.replace"
            and relation(e).get("event_id") == first.event_id
            and text in e.source["content"]["m.new_content"]["body"]
        ]  # fmt: skip

    await wait_for(lambda: edits("1/2 countries acknowledged"))
    dm_tt = await wait_for(lambda: [r for r, e in tt.messages if r != rcc and "BC-1" in e.body])
    await tt.ask(dm_tt[0], "!ack BC-1")
    clock.advance(timedelta(seconds=30))  # past the coalescing of edits
    runtime.app.jobs.wake("broadcast roll-call", 1)
    await wait_for(lambda: edits("2/2 countries acknowledged"))
    await wait_for(lambda: _lacks(pinned(chair, rcc), first.event_id))
    await world.quiet(jm)
    assert len(roll_calls()) == 1  # one message, edited in place


async def _has(found, event_id: str) -> bool:
    return event_id in await found


async def _lacks(found, event_id: str) -> bool:
    return event_id not in await found
