"""Alerts that wake people: evaluated with the recipients' own push rules (Synapse's
defaults) on the decrypted events, as their clients do. A broadcast in the RCC room and in
each DM notifies its recipients; an ordinary reply to a command (an m.notice) does not, as
`.m.rule.suppress_notices` wants."""

from __future__ import annotations

import pytest

from devkit.synapse import wait_for

pytestmark = pytest.mark.synapse


async def test_a_broadcast_rings_and_a_reply_stays_quiet(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    tt = await world.person("tt", "ncpoc", "TT")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm, tt])
    for person in (jm, tt):
        person.accept_invites()  # the DMs the broadcast opens
    quiet = await chair.ask(rcc, "!whoami")
    assert quiet.source["content"]["msgtype"] == "m.notice"
    assert not await chair.would_notify(rcc, quiet)

    await chair.say(rcc, "!broadcast severity=critical Patch the VPN appliances now")
    for person in (jm, tt):

        def copies(person=person):
            found = [
                (room, e) for room, e in person.messages
                if e.sender == world.bot_id and "BC-1" in e.body and "Patch the VPN" in e.body
            ]  # fmt: skip
            rooms = {room for room, _ in found}
            return found if rcc in rooms and len(rooms) == 2 else None

        received = await wait_for(copies, 120, interval=0.2)
        for room, event in received:
            assert event.source["content"]["msgtype"] == "m.text", event.source["content"]
            assert await person.would_notify(room, event), (person.user_id, room)


async def test_a_broadcast_that_looks_like_a_test_sends_nothing_until_the_chair_confirms(world):
    from storage.broadcasts import Broadcast

    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm])
    jm.accept_invites()
    held = await chair.ask(rcc, "!broadcast test")
    assert "Nothing was sent" in held.body and "!drill" in held.body
    assert await world.rows(Broadcast) == []
    later = await chair.ask(rcc, "!whoami")  # the bot has moved on: still nothing went out
    assert later.body and await world.rows(Broadcast) == []
    assert not [e for _, e in jm.messages if e.sender == world.bot_id and "BC-1" in e.body]

    await chair.react(rcc, held.event_id, "✅")

    def copies():  # the live roll-call is the room's quiet picture, not a copy
        found = [
            (r, e) for r, e in jm.messages
            if e.sender == world.bot_id and "BC-1" in e.body
            and "countries acknowledged" not in e.body
        ]  # fmt: skip
        return found if len({r for r, _ in found}) == 2 else None  # the RCC room and a DM

    for room, event in await wait_for(copies, 120, interval=0.2):
        assert "test" in event.body
        assert await jm.would_notify(room, event), room


async def test_a_critical_incident_rings_the_people_it_concerns_and_nobody_else(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    tt = await world.person("tt", "ncpoc", "TT")
    bb = await world.person("bb", "ncpoc", "BB")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm, tt, bb])
    await jm.say(rcc, "!incident new severity=critical tlp=amber countries=TT Grid SCADA probing")

    def alert(person):
        def found():
            return next(
                (e for room, e in person.messages
                 if room == rcc and e.sender == world.bot_id and "INC-1" in e.body),
                None,
            )  # fmt: skip

        return found

    for person in (chair, jm, tt, bb):
        event = await wait_for(alert(person), 120, interval=0.2)
        assert event.source["content"]["msgtype"] == "m.text"
        assert "Grid SCADA probing" in event.body
        concerned = person in (chair, tt)  # TT's NCPOC and the chair; not JM who reported it
        assert await person.would_ring(rcc, event) is concerned, person.user_id


async def test_a_red_incident_in_a_dm_rings_the_rcc_room_with_its_id_only(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    tt = await world.person("tt", "ncpoc", "TT")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm, tt])
    for person in (chair, tt):
        person.accept_invites()  # the DMs the alert opens
    dm = await world.room(jm, [])
    answer = await jm.ask(dm, "!incident new severity=critical tlp=red Minister account hijacked")
    assert "INC-1" in answer.body and "Alerted directly" in answer.body, answer.body

    for person in (chair, tt):

        def copies(person=person):
            found = [
                (room, e) for room, e in person.messages
                if e.sender == world.bot_id and "INC-1" in e.body
            ]  # fmt: skip
            rooms = {room for room, _ in found}
            return found if rcc in rooms and len(rooms) == 2 else None  # the room and a DM

        for room, event in await wait_for(copies, 120, interval=0.2):
            assert "TLP:RED" in event.body and "ask @jm" in event.body, event.body
            assert "hijacked" not in event.body and "hijacked" not in str(event.source)
            assert await person.would_ring(room, event), (person.user_id, room)
