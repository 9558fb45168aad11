"""A stolen password against the pinned identity, through Synapse with Element-like people.

The thief logs in with the NCPOC's password on a new device and resets the account's
cross-signing identity (new master, self-signing and user-signing keys, their own device
signed with them). The bot keeps trusting what it pinned: the owner's devices, signed under
the pinned master key, keep reading and acting; the thief's device gets no room key and is
answered like an unverified session until the chair types the fingerprint they compared.
"""

from __future__ import annotations

import pytest

from devkit.synapse import wait_for
from storage.identities import Identity

pytestmark = pytest.mark.synapse


def from_bot(person, room: str, bot: str) -> tuple[list, list]:
    """What `person` got from the bot in `room`: (read, could not decrypt)."""
    read = [e for r, e in person.messages if r == room and e.sender == bot]
    unread = [e for r, e in person.undecryptable if r == room and e.sender == bot]
    return read, unread


async def pinned_key(world, user: str) -> Identity:
    (row,) = await world.rows(Identity, Identity.user_id == user)
    return row


async def test_the_thief_who_resets_the_identity_reads_nothing_while_the_owner_reads_on(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    tt = await world.person("tt", "ncpoc", "TT")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm, tt])
    await jm.ask(rcc, "!whoami")  # jm's identity is pinned on first sight
    tt_red = await tt.ask(rcc, "!incident new severity=critical tlp=red Cabinet phones cloned")
    assert "INC-1" in tt_red.body
    amber = await tt.ask(rcc, "!incident new severity=high tlp=amber+strict Port scans")
    assert "INC-2" in amber.body
    motion = await chair.ask(rcc, "!motion propose legal.cybercrime Cybercrime Act enacted")
    assert "MO-1 is open" in motion.body

    thief = await world.device(jm, "THIEF", cross_signed=False)  # only the password
    stolen = await thief.reset_identity()
    await wait_for(lambda: rcc in thief.client.rooms)
    assert (await pinned_key(world, jm.user_id)).master_key != stolen.replace(" ", "")

    # The thief's commands: refused as from an unverified session; their whoami answers.
    tries = [
        "!incident show INC-1",
        "!incident list all",
        "!contact update phone=+18765550199",
        "!incident close INC-2 nothing to see",
        "!incident new severity=low tlp=red Fake alert",
        "!vote MO-1 no",
    ]
    asked = [await thief.say(rcc, text) for text in tries]
    whoami = await thief.say(rcc, "!whoami")
    told = await jm.reply_to(whoami)  # the owner's device reads the bot's answer to it
    assert stolen in told.body and "new" in told.body.lower()
    first = await jm.reply_to(asked[0])
    assert "session" in first.body and "Cabinet" not in first.body

    # The owner, on the device signed under the pinned key, keeps reading RED and acting.
    own = await jm.ask(rcc, "!incident new severity=critical tlp=red Minister's laptop seized")
    assert "INC-3" in own.body and "Minister's laptop seized" in own.body
    shown = await jm.ask(rcc, "!incident show INC-1")
    assert "Cabinet phones cloned" in shown.body

    # The RCC room was told of the new identity, with its fingerprint.
    notice = await wait_for(
        lambda: [t for t in chair.texts_in(rcc) if "cross-signing identity changed" in t]
    )
    assert stolen in notice[0]

    await world.quiet(chair, jm, tt, thief)
    read, unread = from_bot(thief, rcc, world.bot_id)
    leaked = [e.body for e in read if "Cabinet" in e.body or "laptop" in e.body]
    assert leaked == [], leaked
    assert read == [], [e.body for e in read]  # no room key of the bot's reached the thief
    assert unread, "the bot's messages reached the room, encrypted"
    async with world.runtime.app.db.unit(write=False) as store:
        incident = await store.incidents.get(2)
        member = await store.roster.member(jm.user_id)
        entries = await store.roster.national_of(jm.user_id)
    assert incident.status != "closed"
    assert member is not None and all(e.phone != "+18765550199" for e in entries)
    async with world.runtime.app.db.unit(write=False) as store:
        assert await store.motions.votes(await store.motions.get(1)) == []
        assert await store.incidents.get(4) is None  # no fake alert either


async def test_the_chair_confirms_only_the_fingerprint_compared_out_of_band(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm])
    await jm.ask(rcc, "!whoami")
    phone = await world.device(jm, "NEWPHONE", cross_signed=False)
    owners = await phone.reset_identity()  # the owner's own reset, on a new phone
    await wait_for(lambda: rcc in phone.client.rooms)
    said = await jm.reply_to(await phone.say(rcc, "!whoami"))  # read on the old device
    assert owners in said.body
    thief = await world.device(jm, "THIEF", cross_signed=False)
    thiefs = await thief.reset_identity()  # a second reset before the chair acts
    await wait_for(lambda: rcc in thief.client.rooms)
    await thief.say(rcc, "!whoami")  # the bot sees the thief's key now

    async def pending_is(key: str) -> bool:
        row = await pinned_key(world, jm.user_id)
        return (row.pending_key or "") == key.replace(" ", "")

    await wait_for(lambda: pending_is(thiefs), 60, interval=0.2)
    refused = await chair.ask(rcc, f"!roster trust {jm.user_id} {owners}")
    assert "⛔" in refused.body or "not the key" in refused.body, refused.body
    assert owners in refused.body and thiefs in refused.body
    row = await pinned_key(world, jm.user_id)
    assert row.master_key not in (owners.replace(" ", ""), thiefs.replace(" ", ""))

    dropped = await chair.ask(rcc, f"!roster distrust {jm.user_id}")
    assert "refused" in dropped.body.lower() or "kept" in dropped.body.lower(), dropped.body
    row = await pinned_key(world, jm.user_id)
    assert row.pending_key is None
