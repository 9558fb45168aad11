"""Exactly-once through stops, crashes and gaps, with a real Synapse."""

from __future__ import annotations

import pytest

from devkit.synapse import wait_for
from storage.audit import AuditEntry
from storage.outbox import OutboxMessage
from storage.roster import RosterEntry

pytestmark = pytest.mark.synapse


async def test_command_sent_while_stopped_is_answered_once_after_start(world):
    chair = await world.person("chair", "chair")
    await world.start_bot()
    room = await world.rcc_room(chair, [])
    await chair.ask(room, "!whoami")
    await world.stop_bot()
    offline = await chair.say(room, "!roster add @late:rcc.test role=steering force=yes")
    await world.start_bot()
    reply = await chair.reply_to(offline)
    assert "Added @late:rcc.test" in reply.body
    # A second restart with the same store and database runs nothing again.
    await world.stop_bot()
    runtime = await world.start_bot()
    await world.barrier(chair, room)
    assert len(chair.replies_to(offline)) == 1
    assert runtime.bot.inbox.handled == 1
    assert len(await world.rows(RosterEntry, RosterEntry.user_id == "@late:rcc.test")) == 1


async def test_first_start_without_a_token_does_not_run_history(world):
    chair = await world.person("chair", "chair")
    await world.start_bot()
    room = await world.rcc_room(chair, [])
    await chair.ask(room, "!whoami")
    await world.stop_bot()
    for path in world.tmp.glob("rcc.db*"):  # a new database: this start counts as the first
        path.unlink()
    old = await chair.say(room, "!whoami")
    await world.start_bot()
    await world.barrier(chair, room)
    assert chair.replies_to(old) == []


@pytest.mark.parametrize("point", ["before-commit", "after-commit", "after-send"])
async def test_sigkill_between_command_and_reply(world, point):
    chair = await world.person("chair", "chair")
    world.spawn_bot()
    room = await world.rcc_room(chair, [])
    await chair.ask(room, "!whoami")
    world.kill_bot()
    world.spawn_bot(crash_at=point)
    command = await chair.say(room, "!roster add @crash:rcc.test role=steering force=yes")
    assert await world.wait_exit() == -9, "the bot must have been killed at the crash point"
    world.spawn_bot()
    reply = await chair.reply_to(command)
    assert "Added @crash:rcc.test" in reply.body
    await world.barrier(chair, room)  # the restarted bot has caught up
    assert len(chair.replies_to(command)) == 1
    assert len(await world.rows(RosterEntry, RosterEntry.user_id == "@crash:rcc.test")) == 1
    audits = await world.rows(AuditEntry, AuditEntry.event_id == command)
    assert [(a.action, a.outcome) for a in audits] == [("roster add", "accepted")]


async def test_outbox_resend_uses_the_same_transaction(world):
    chair = await world.person("chair", "chair")
    runtime = await world.start_bot()
    room = await world.rcc_room(chair, [])
    event = await chair.say(room, "!whoami")
    await chair.reply_to(event)
    # Deliveries are recorded in batches, a moment after the send.
    (sent,) = await wait_for(lambda: world.rows(OutboxMessage, OutboxMessage.state == "sent"))
    # Sending the same row again (as after a crash before it was marked) posts nothing new.
    response = await runtime.client.room_send(
        room,
        "m.room.message",
        {"msgtype": "m.notice", "body": "again"},
        tx_id=sent.txn_id,
        ignore_unverified_devices=True,
    )
    assert response.event_id == sent.event_id
    await world.barrier(chair, room)
    assert len(chair.replies_to(event)) == 1
