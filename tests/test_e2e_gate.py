"""Need-to-know by construction, through Synapse: rooms whose readers change after a message
was written — a DM someone else was let into, a stand-in who left the committee, a late
joiner of the room where TLP:RED was posted — and minutes said in the RCC room that must not
reach the Steering Committee's agenda unless labelled for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devkit.synapse import wait_for

pytestmark = pytest.mark.synapse


def texts(person, room=None) -> list[str]:
    return [e.body for r, e in person.messages if room is None or r == room]


async def test_an_outsider_let_into_an_ncpocs_dm_reads_no_broadcast(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    outsider = await world.person("outsider")  # not on the roster
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm])
    await chair.ask(rcc, "!broadcast tlp=green First: the phone tree works")
    dm = await jm.accept_invite()
    await wait_for(lambda: [t for t in texts(jm, dm) if "phone tree works" in t])
    await jm.invite(dm, outsider.user_id)  # the NCPOC lets someone into the DM
    await outsider.accept_invite()
    await jm.wait_member(dm, outsider.user_id)

    await chair.ask(rcc, "!broadcast tlp=amber+strict Second: rotate the VPN keys tonight")
    fresh = await jm.accept_invite()  # a fresh two-member DM, and the broadcast in it
    assert fresh != dm
    await wait_for(lambda: [t for t in texts(jm, fresh) if "rotate the VPN keys" in t])
    told = await wait_for(lambda: [t for t in texts(jm, fresh) if "Someone else was let in" in t])
    assert told
    # The outsider's own answer in the spoiled DM comes after anything sent there before it.
    await outsider.ask(dm, "!whoami")
    await world.quiet(jm)
    read = "\n".join(texts(outsider))
    assert "rotate the VPN keys" not in read and "VPN" not in read
    assert not [t for t in texts(jm, dm) if "VPN" in t], "nothing more into the spoiled DM"


async def test_a_stand_in_removed_from_the_roster_receives_nothing(world):
    chair = await world.person("chair", "chair")
    tt = await world.person("tt", "ncpoc", "TT")
    stand_in = await world.person("tt2", "ncpoc", "TT")
    jm = await world.person("jm", "ncpoc", "JM")
    for person in (tt, stand_in, jm):
        person.accept_invites()
    await world.start_bot()
    rcc = await world.rcc_room(chair, [tt, jm])  # the stand-in is not in the RCC room
    away = await tt.ask(rcc, f"!away until 2026-12-30 to={stand_in.user_id}")
    assert stand_in.user_id in away.body
    removed = await chair.ask(rcc, f"!roster remove {stand_in.user_id}")
    assert "Removed" in removed.body
    sent = await chair.ask(rcc, "!broadcast tlp=amber Patch the mail gateway now")
    assert "BC-1" in sent.body or "broadcast" in sent.body.lower()
    copy = await wait_for(lambda: [t for t in texts(tt) if "Patch the mail gateway" in t])
    assert copy  # the absent NCPOC is reached again: nobody stands in for them now
    await world.quiet(tt, jm, stand_in)
    assert not [t for t in texts(stand_in) if "mail gateway" in t]
    in_room = [t for t in texts(chair, rcc) if "Patch the mail gateway" in t]
    assert in_room and stand_in.user_id not in in_room[0]


async def test_a_late_joiner_sees_only_the_label_of_red_posted_before(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    bb = await world.person("bb", "ncpoc", "BB")  # on the roster, not in the room yet
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm])
    red = await jm.ask(rcc, "!incident new severity=critical tlp=red Cabinet phones cloned")
    assert "Cabinet phones cloned" in red.body
    assert "Cabinet phones cloned" in (await chair.ask(rcc, "!incident show INC-1")).body
    await chair.invite(rcc, bb.user_id)
    await bb.accept_invite()
    await chair.wait_member(rcc, bb.user_id)
    shown = await bb.ask(rcc, "!incident show INC-1")
    assert "INC-1" in shown.body and "details withheld" in shown.body
    assert "Cabinet" not in shown.body
    listed = await jm.ask(rcc, "!incident list all")  # even for jm: bb reads the room now
    assert "Cabinet" not in listed.body and "INC-1" in listed.body
    await bb.ask(rcc, "!whoami")  # answered after whatever the bot said there before
    assert not [t for t in texts(bb) if "Cabinet" in t]


async def test_rcc_minutes_reach_the_steering_agenda_only_when_labelled_for_it(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    steer = await world.person("steer", "steering")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm])
    steering = await world.room(chair, [steer], alias=world.steering_alias)
    await chair.ask(rcc, "!minutes start")
    await chair.ask(rcc, f"!action {jm.user_id} due=2027-01-31 Quietly check the registry logs")
    await chair.ask(
        rcc, f"!action {jm.user_id} due=2027-01-31 tlp=green Publish the awareness calendar"
    )
    await chair.ask(rcc, "!minutes stop")
    soon = datetime.now(UTC) + timedelta(days=1)
    when = soon.strftime("%Y-%m-%d %H:%M")
    await chair.ask(rcc, f"!meeting add {when} Steering review room=steering")
    agenda = await wait_for(
        lambda: [e for r, e in steer.messages if r == steering and "Agenda of MT-2" in e.body],
        120,
    )
    assert "Publish the awareness calendar" in agenda[0].body
    assert "registry logs" not in agenda[0].body and "1 more is not shown" in agenda[0].body
