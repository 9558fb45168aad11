"""Undecryptable events and direct messages, through a real Synapse.

Outages, late keys and kills are in test_faults.py.
"""

from __future__ import annotations

import pytest

from bot.matrix.content import notice
from bot.rendering import plain
from devkit.synapse import wait_for
from storage.outbox import OutboxMessage
from storage.undecrypted import UndecryptedEvent

pytestmark = pytest.mark.synapse


async def test_undecryptable_command_is_reported_once(world):
    world.extra_config = 'undecryptable_notice_after = "2s"'
    chair = await world.person("chair", "chair")
    runtime = await world.start_bot()
    room = await world.rcc_room(chair, [])
    await chair.ask(room, "!whoami")
    # The chair's client stops sharing room keys with the bot's device, on a fresh session.
    bot_device = runtime.client.device_id
    device = chair.client.device_store[world.bot_id][bot_device]
    chair.client.blacklist_device(device)
    chair.client.olm.outbound_group_sessions.pop(room, None)
    first = await chair.say(room, "!whoami")
    second = await chair.say(room, "!roster")
    told = await chair.reply_to(first)
    assert "could not read the encrypted message" in told.body

    async def both_covered() -> bool:  # each kept event was told of, by its own notice or not
        kept = await world.rows(UndecryptedEvent)
        return {k.event_id for k in kept if k.notified_at} == {first, second}

    await wait_for(both_covered, 120, interval=0.2)
    await world.quiet(chair)
    assert chair.replies_to(second) == [], "one notice per sender and key session"
    assert len(chair.replies_to(first)) == 1
    async with runtime.app.db.unit(write=False) as store:
        audit = [e for e in await store.audit.recent() if e.action == "undecryptable"]
    assert [(e.actor, e.event_id) for e in audit] == [(chair.user_id, first)]


async def test_bot_opens_an_encrypted_dm(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    runtime = await world.start_bot()
    await world.rcc_room(chair, [jm])
    dm = await runtime.bot.rooms.direct_room(jm.user_id)
    assert dm is not None
    await wait_for(lambda: dm in jm.client.invited_rooms)
    await jm.join(dm)
    await jm.wait_member(dm, world.bot_id)
    async with runtime.app.db.unit() as store:
        row = await store.outbox.enqueue(
            room_id=dm, content=notice(plain("hello in private")), now=runtime.app.clock()
        )
    runtime.bot.sender.handoff.submit([row])
    received = await wait_for(
        lambda: [e for r, e in jm.messages if r == dm and e.body == "hello in private"]
    )
    assert received[0].decrypted
    assert jm.client.rooms[dm].encrypted
    assert await runtime.bot.rooms.direct_room(jm.user_id) == dm  # reused, not a second room
    # A command in the DM is answered there.
    reply = await jm.ask(dm, "!whoami")
    assert "NCPOC for Jamaica" in reply.body


async def test_a_message_to_someone_who_left_the_dm_is_reported_not_sent(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    runtime = await world.start_bot()
    await world.rcc_room(chair, [jm])
    chair.accept_invites()  # the report comes in a DM
    dm = await runtime.bot.rooms.direct_room(jm.user_id)
    await wait_for(lambda: dm in jm.client.invited_rooms)
    await jm.join(dm)
    await jm.client.room_leave(dm)  # an empty DM: nobody would read what is sent there
    await wait_for(lambda: jm.user_id not in runtime.client.rooms[dm].users)
    async with runtime.app.db.unit() as store:
        row = await store.outbox.enqueue(
            room_id=None, to_user=jm.user_id, report_to=[chair.user_id],
            content=notice(plain("reminder")), now=runtime.app.clock(),
        )  # fmt: skip
    runtime.bot.sender.handoff.submit([row])

    async def failed():
        (found,) = await world.rows(OutboxMessage, OutboxMessage.id == row.id)
        return found if found.state == "failed" else None

    found = await wait_for(failed, 120, interval=0.2)
    assert "has left the direct chat" in found.error and found.sent_at is None
    told = await wait_for(lambda: [e.body for _, e in chair.messages if "Not delivered" in e.body])
    assert jm.user_id in told[0] and "has left the direct chat" in told[0]
