"""Trusting the sender through Synapse: the test people cross-sign their devices as Element
users do; a device they did not sign (someone with only the password) is neither obeyed nor
given the bot's room keys; a reset identity waits for the chair; floods cost the flooder."""

from __future__ import annotations

import pytest

from devkit.synapse import wait_for
from storage.identities import Identity
from storage.undecrypted import UndecryptedEvent

pytestmark = pytest.mark.synapse


def bot_events(person, room: str, bot: str) -> tuple[list, list]:
    """What `person` got from the bot in `room`: (read, could not decrypt)."""
    read = [e for r, e in person.messages if r == room and e.sender == bot]
    unread = [e for r, e in person.undecryptable if r == room and e.sender == bot]
    return read, unread


async def test_a_device_the_chair_did_not_sign_is_refused_and_cannot_read(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm])
    await chair.ask(rcc, "!whoami")
    laptop = await world.device(chair, "LAPTOP", cross_signed=False)  # a stolen password
    await wait_for(lambda: rcc in laptop.client.rooms)

    refused = await laptop.say(rcc, "!broadcast severity=critical Wire the money now")
    told = await chair.reply_to(refused)  # the chair's own, verified session reads why
    assert "session (device) you have not verified" in told.body
    assert "Settings → Sessions → Verify session" in told.body
    again = await laptop.say(rcc, "!deadline list")
    await world.barrier(chair, rcc)
    assert chair.replies_to(again) == [], "told once per session, then only audited"
    from_bot, _ = bot_events(jm, rcc, world.bot_id)
    assert not [e for e in from_bot if "Wire the money" in e.body], "nothing was broadcast"

    whoami = await chair.ask(rcc, "!whoami")
    assert "is verified (cross-signed by you)" in whoami.body
    accepted = await chair.ask(rcc, "!deadline list")
    assert "deadline" in accepted.body.lower() and "not verified" not in accepted.body

    await world.quiet(chair, laptop)
    read, unread = bot_events(laptop, rcc, world.bot_id)
    assert read == [], [e.body for e in read]  # the bot's keys never reached that device
    assert unread, "the bot's replies did reach the room, encrypted"
    seen_by_chair, _ = bot_events(chair, rcc, world.bot_id)
    assert {e.event_id for e in unread} <= {e.event_id for e in seen_by_chair}

    signed = await world.device(chair, "PHONE", cross_signed=True)  # verified in Element
    await wait_for(lambda: rcc in signed.client.rooms)
    asked = await signed.say(rcc, "!whoami")
    reply = await chair.reply_to(asked)  # read on the chair's first session
    assert "session PHONE is verified (cross-signed by you)" in reply.body


async def test_a_reset_identity_waits_for_the_chair(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    runtime = await world.start_bot()
    rcc = await world.rcc_room(chair, [jm])
    await jm.ask(rcc, "!whoami")  # jm's identity is pinned on first sight
    (pinned,) = await world.rows(Identity, Identity.user_id == jm.user_id)
    assert pinned.event_id and pinned.master_key.replace(" ", "") == jm.master_key.replace(" ", "")
    assert pinned.self_signing_key, "the self-signing key is pinned with the master key"

    phone = await world.device(jm, "NEWPHONE", cross_signed=False)  # a new phone, then a reset
    new_key = await phone.reset_identity()
    await wait_for(lambda: rcc in phone.client.rooms)
    attempt = await phone.say(rcc, "!incident new severity=high tlp=red Minister's phone cloned")
    refused = await jm.reply_to(attempt)  # the old, still trusted session reads the answer
    assert "new cross-signing identity" in refused.body and "!roster trust" in refused.body
    told = await wait_for(
        lambda: [t for t in chair.texts_in(rcc) if "'s cross-signing identity changed" in t]
    )
    assert jm.user_id in told[0] and new_key in told[0]
    still = await jm.reply_to(await phone.say(rcc, "!whoami"))
    assert "It is new" in still.body and new_key in still.body

    own = await jm.ask(rcc, f"!roster trust {jm.user_id} {new_key}")
    assert "nobody confirms their own identity" in own.body or "⛔" in own.body
    confirmed = await chair.ask(rcc, f"!roster trust {jm.user_id} {new_key}")
    assert "identity is confirmed" in confirmed.body and new_key in confirmed.body
    # At once, without a restart: the new phone's commands run and it reads the answers.
    posted = await phone.ask(rcc, "!incident new severity=high tlp=red Minister's phone cloned")
    assert "INC-1" in posted.body, posted.body
    async with runtime.app.db.unit(write=False) as store:
        row = await store.identities.get(jm.user_id)
    assert row.master_key.replace(" ", "") == new_key.replace(" ", "") and not row.pending_key


async def test_an_admin_cannot_take_the_chair(world):
    chair = await world.person("chair", "chair")
    admin = await world.person("admin", "admin")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [admin])
    taken = await admin.ask(rcc, f"!roster add {admin.user_id} role=chair")
    assert "only the chair" in taken.body
    removed = await admin.ask(rcc, f"!roster remove {chair.user_id}")
    assert "only the chair" in removed.body
    roster = await chair.ask(rcc, "!roster")
    assert f"RCC chair: {chair.user_id}" in roster.body and f"RCC chair: {admin.user_id}" not in (
        roster.body
    )


async def test_an_undecryptable_flood_costs_the_flooder(world):
    world.extra_config = 'undecryptable_notice_after = "1s"'
    chair = await world.person("chair", "chair")
    outsider = await world.person("outsider")  # in the room, not on the roster
    runtime = await world.start_bot()
    rcc = await world.rcc_room(chair, [outsider])
    await chair.ask(rcc, "!whoami")
    await outsider.ask(rcc, "!whoami")
    for person in (chair, outsider):  # each stops sharing room keys with the bot's device
        device = person.client.device_store[world.bot_id][runtime.client.device_id]
        person.client.blacklist_device(device)
        person.client.olm.outbound_group_sessions.pop(rcc, None)
    flood = [await outsider.say(rcc, f"!roster {n}") for n in range(15)]
    mine = [await chair.say(rcc, f"!roster {n}") for n in range(3)]
    told = await chair.reply_to(mine[0])
    assert "could not read the encrypted message" in told.body

    async def settled() -> bool:  # every kept event told of, or passed over in silence
        kept = await world.rows(UndecryptedEvent)
        return len(kept) >= len(mine) and all(k.notified_at for k in kept)

    await wait_for(settled, 120, interval=0.2)
    await world.quiet(chair)
    notices = [t for t in chair.texts_in(rcc) if "could not read" in t]
    assert len(notices) == 1, notices  # the chair's, once; none for the outsider
    assert all(outsider.replies_to(event) == [] for event in flood)
    kept = await world.rows(UndecryptedEvent, UndecryptedEvent.sender == outsider.user_id)
    assert len(kept) <= 3, "a non-member's undecryptable events are not kept beyond a few"
