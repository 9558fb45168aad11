"""Kill -9 at random points while jobs fan out, then restart: exactly one copy of everything.

Three kinds of work, each killed RCC_JOB_KILLS (30) times at a point chosen by progress, not
by the clock: a crash point on its k-th passage — inside a job's unit before it commits,
after it commits (its messages not handed to the sender yet), after the k-th send — or,
for commands, around their own commit. Between runs, new work is added while the bot is
down (a broadcast typed, a deadline that passed, a digest slot missed), so every start also
proves that work found in the database is resumed. At the end, every room the bot wrote to
holds exactly the messages its outbox says it sent, each once, and every recipient has what
they should, once.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from commands.digest.compose import LAST_CHECK
from devkit.synapse import wait_for
from storage.broadcasts import Broadcast, BroadcastRecipient
from storage.db import Database
from storage.deadlines import Deadline, ReminderLog
from storage.digests import DigestLog
from storage.outbox import OutboxMessage

pytestmark = [pytest.mark.synapse, pytest.mark.faults, pytest.mark.timeout(1500)]

KILLS = int(os.environ.get("RCC_JOB_KILLS", "30"))
NCPOCS = 12
JOB_POINTS = ("before-job-commit", "after-job-commit", "after-send")


def seeded() -> random.Random:
    seed = int(os.environ.get("RCC_FAULT_SEED", time.time_ns() % 1_000_000))
    print(f"RCC_FAULT_SEED={seed}")
    return random.Random(seed)


async def scene(world, *, ncpocs: int = NCPOCS):
    """A chair with a real client in the RCC room with the bot, which is left running; NCPOCs
    who exist on the homeserver but need no client."""
    chair = await world.person("chair", "chair")
    codes = ["JM", "TT", "BB", "LC", "GD", "DM", "AG", "KN", "VC", "GY", "SR", "BZ"]
    for n in range(ncpocs):
        account = world.hs.register(f"ncpoc{n}-{world.tag}")
        world.roster.append((account.user_id, "ncpoc", codes[n % len(codes)]))
    world.spawn_bot()
    rcc = await world.rcc_room(chair, [])
    await chair.ask(rcc, "!whoami")
    return chair, rcc


def anywhere(*points: str, most: int = 3):
    """A crash point and the passage to die on, at random."""
    return lambda rng: f"{rng.choice(points)}:{rng.randint(1, most)}"


async def kill_while(world, rng, pending, add_work, choose=None) -> Counter:
    """Start the bot again and again, each time armed to die at a random crash point; add
    work while it is down whenever the last work is done. Returns where the kills landed."""
    choose = choose or anywhere(*JOB_POINTS)
    kills: Counter = Counter()
    while sum(kills.values()) < KILLS:
        if not await pending():
            await add_work()
        where = choose(rng)
        world.spawn_bot(crash_at=where)
        await wait_for(lambda: world.process.poll() is not None or idle(pending), 240, 0.1)
        if world.process.poll() is None:  # the work ended before the crash point came
            world.kill_bot()
        else:
            assert world.process.returncode == -9, f"the bot exited on its own at {where}"
            kills[where.split(":")[0]] += 1
    world.spawn_bot()  # a last, undisturbed run finishes the work
    await wait_for(lambda: idle(pending), 240, 0.2)
    world.kill_bot()
    return kills


async def idle(pending) -> bool:
    return not await pending()


async def rows(world, model, *where) -> list:
    return await world.rows(model, *where)


async def nothing_unsent(world) -> bool:
    return not await rows(world, OutboxMessage, OutboxMessage.state == "pending")


async def each_room_holds_its_outbox_once(world) -> int:
    """In every room the bot wrote to, its messages are exactly the outbox's sent rows."""
    sent = await rows(world, OutboxMessage, OutboxMessage.state == "sent")
    by_room: dict[str, set[str]] = {}
    for row in sent:
        by_room.setdefault(row.room_id, set()).add(row.event_id)
    assert len({row.event_id for row in sent}) == len(sent), "two rows, one event"
    for room, expected in by_room.items():
        held = await asyncio.to_thread(world.hs.room_events, room, 1000)
        posted = [
            e["event_id"]
            for e in held
            if e["sender"] == world.bot_id and e["type"] == "m.room.encrypted"
        ]
        assert sorted(posted) == sorted(expected), f"{room}: {len(posted)} posted"
    return len(sent)


async def each_broadcast_once(world, rcc: str, typed: int, ncpocs: int) -> int:
    """Each broadcast recorded, announced and its live roll-call posted once in the RCC room,
    one DM per recipient; every room holds its outbox once. Returns the messages sent."""
    recipients = await rows(world, BroadcastRecipient)
    assert len(recipients) == ncpocs * typed
    assert len(await rows(world, Broadcast)) == typed
    in_rcc = await rows(world, OutboxMessage, OutboxMessage.room_id == rcc)
    announced = Counter(r.ref for r in in_rcc if r.ref and r.ref.startswith("broadcast:"))
    assert sorted(announced.values()) == [1] * typed, "one announcement in the RCC room each"
    live = Counter(
        r.ref for r in in_rcc
        if r.ref and r.ref.startswith("rollcall:") and "m.replace" not in r.content
    )  # fmt: skip
    assert sorted(live.values()) == [1] * typed, "one live roll-call each, then edits"
    sent = await each_room_holds_its_outbox_once(world)
    dms = {r.dm_outbox_id for r in recipients}
    assert len(dms) == len(recipients), "one DM per recipient and broadcast"
    return sent


async def test_kills_while_broadcasts_fan_out(world):
    rng = seeded()
    chair, rcc = await scene(world)
    world.kill_bot()
    typed: list[str] = []

    async def pending() -> bool:
        found = await rows(world, Broadcast)
        undelivered = await rows(
            world, BroadcastRecipient, BroadcastRecipient.dm_outbox_id.is_(None)
        )
        return len(found) < len(typed) or bool(undelivered) or not await nothing_unsent(world)

    async def broadcast() -> None:  # typed while the bot is down
        typed.append(
            await chair.say(
                rcc, f"!broadcast severity=high Drill {len(typed) + 1} of the phone tree"
            )
        )

    kills = await kill_while(world, rng, pending, broadcast, anywhere(*JOB_POINTS, "after-commit"))
    sent = await each_broadcast_once(world, rcc, len(typed), NCPOCS)
    print(f"{len(typed)} broadcasts, {sent} messages, each once; kills: {dict(kills)}")


async def test_kills_while_reminders_fan_out(world):
    rng = seeded()
    chair, _ = await scene(world)
    world.kill_bot()
    made: list[int] = []

    async def pending() -> bool:
        logged = {r.deadline_id for r in await rows(world, ReminderLog)}
        return not set(made) <= logged or not await nothing_unsent(world)

    async def deadline_passed() -> None:
        """A deadline set days ago that passed while the bot was down: at start, overdue
        notices to every NCPOC and the chair's list of who is missing."""
        now = datetime.now(UTC)
        db = Database(world.db_url)
        async with db.unit() as store:
            added = await store.deadlines.add(
                title=f"Return {len(made) + 1}",
                due_at=now - timedelta(minutes=30),
                every=None,
                remind=",86400,",
                created_by=chair.user_id,
                now=now - timedelta(days=3),
            )
        await db.close()
        made.append(added.key)

    kills = await kill_while(world, rng, pending, deadline_passed)
    log = await rows(world, ReminderLog, ReminderLog.state == "sent")
    per_deadline = Counter(r.deadline_id for r in log)
    assert per_deadline == dict.fromkeys(made, NCPOCS + 1), "every NCPOC and the chair, once"
    assert len({(r.deadline_id, r.kind, r.recipient) for r in log}) == len(log)
    assert len(await rows(world, Deadline)) == len(made)
    sent = await each_room_holds_its_outbox_once(world)
    print(f"{len(made)} deadlines, {sent} messages, each once; kills: {dict(kills)}")


async def test_kills_while_scheduled_digests_are_posted(world):
    rng = seeded()
    chair, _ = await scene(world, ncpocs=2)
    steering = await world.room(chair, [], alias=world.steering_alias)
    await chair.ask(steering, "!whoami")
    world.kill_bot()
    slots: list[int] = []
    minute = datetime.now(UTC).minute

    async def pending() -> bool:
        posted = await rows(world, DigestLog, DigestLog.slot.is_not(None))
        return len(posted) < len(slots) or not await nothing_unsent(world)

    async def slot_missed() -> None:
        """A schedule whose latest slot, minutes ago, was missed while the bot was down."""
        slots.append((minute - 2 - len(slots)) % 60)  # a new minute of the hour each time
        world.extra_config = f'[digest]\nschedule = "{slots[-1]} * * * *"\napproval = "none"\n'
        db = Database(world.db_url)
        async with db.unit() as store:
            last = datetime.now(UTC) - timedelta(hours=2)
            await store.state.set(LAST_CHECK, last.isoformat(), now=datetime.now(UTC))
        await db.close()

    # One digest job run per start: its unit dies at once or not at all; three sends follow.
    def choose(rng):
        point = rng.choice(JOB_POINTS)
        return f"{point}:{rng.randint(1, 3) if point == 'after-send' else 1}"

    kills = await kill_while(world, rng, pending, slot_missed, choose)
    posted = await rows(world, DigestLog, DigestLog.slot.is_not(None))
    assert len(posted) == len(slots) == len({p.slot for p in posted}), "one digest per slot"
    sent = await each_room_holds_its_outbox_once(world)
    in_steering = await rows(world, OutboxMessage, OutboxMessage.room_id == steering)
    assert len([r for r in in_steering if r.ref == "digest:0"]) == len(slots)
    assert len([r for r in in_steering if r.kind == "file"]) == 2 * len(slots)
    print(f"{len(slots)} digests, {sent} messages, each once; kills: {dict(kills)}")
