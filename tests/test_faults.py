"""Fault injection through a real Synapse: kills, outages, gaps, late keys, hostile input.

Run alone with `make test-faults` (pytest -m faults). Set RCC_FAULT_SEED to replay a run of
the random kills; the seed in use is printed.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import time
from collections import Counter

import pytest
from nio import ToDeviceMessage

from bot.matrix.backoff import BASE, CAP, JITTER
from devkit.synapse import wait_for
from storage.audit import AuditEntry
from storage.events import ProcessedEvent
from storage.roster import RosterEntry
from tests.htmlcheck import html_problems
from tests.proxy import FlakyProxy

pytestmark = [pytest.mark.synapse, pytest.mark.faults]

KILLS = int(os.environ.get("RCC_FAULT_KILLS", "40"))
OUTAGE = 30.0
CRASH_POINTS = ("before-commit", "after-commit", "after-send")


def count_requests(client) -> list[float]:
    """Every HTTP request the bot's client makes from now on (monotonic times)."""
    times: list[float] = []
    send = client.send

    async def counted(*args, **kwargs):
        times.append(time.monotonic())
        return await send(*args, **kwargs)

    client.send = counted
    return times


def record_retry_delays(bot) -> list[float]:
    """Every wait the bot's sync loop chooses after a failed sync, from now on."""
    delays: list[float] = []
    choose = bot._delay

    def recorded(response, backoff):
        delays.append(choose(response, backoff))
        return delays[-1]

    bot._delay = recorded
    return delays


async def exactly_once(world, chair, room, commands: list[str], users: list[str]) -> None:
    """Each command answered once, its roster row written once, its audit entry once."""
    for command in commands:
        await chair.reply_to(command, within=120)
    await world.barrier(chair, room)
    twice = [c for c in commands if len(chair.replies_to(c)) != 1]
    assert not twice, f"{len(twice)} commands not answered exactly once"
    added = await world.rows(RosterEntry, RosterEntry.user_id.in_(users))
    assert sorted(r.user_id for r in added) == sorted(users)
    audits = await world.rows(AuditEntry, AuditEntry.event_id.in_(commands))
    assert sorted(a.event_id for a in audits) == sorted(commands)
    assert {(a.action, a.outcome) for a in audits} == {("roster add", "accepted")}


class BotLog:
    """The spawned bot's log, read from where its current run began."""

    def __init__(self, path) -> None:
        self.path = path
        self.start = 0

    def new_run(self) -> None:
        self.start = self.path.stat().st_size if self.path.exists() else 0

    def run_text(self) -> str:
        with self.path.open("rb") as log:
            log.seek(self.start)
            return log.read().decode(errors="replace")

    def handled(self) -> int:
        """Commands this run has committed (each logs "event $id: <command> accepted")."""
        return self.run_text().count(" accepted\n")


async def kill_at_a_random_point(world, log: BotLog, rng: random.Random) -> str:
    """Start the bot and kill it at a point chosen by its progress, never by the clock:
    after k more commands (k may be 0), or at a crash point on its (k+1)-th passage:
    before a command commits, between commit and reply, or after a send."""
    k = rng.randint(0, 3)
    point = rng.choice((None, *CRASH_POINTS))
    log.new_run()
    if point is not None:
        world.spawn_bot(crash_at=f"{point}:{k + 1}")
        assert await world.wait_exit(240) == -9, f"not killed at {point}:{k + 1}"
        return f"at {point}:{k + 1}"
    world.spawn_bot()
    if k == 0 and rng.random() < 0.5:
        where = "during start-up"  # imports, migrations check, login, first sync
    elif k == 0:
        await wait_for(lambda: "bot.runner: running as" in log.run_text(), 240, interval=0.02)
        where = "once running"
    else:
        await wait_for(lambda: log.handled() >= k, 240, interval=0.02)
        where = f"after {k} command(s)"
    world.kill_bot()
    return where


@pytest.mark.timeout(1200)
async def test_sigkill_at_random_points_during_a_command_stream(world):
    seed = int(os.environ.get("RCC_FAULT_SEED", time.time_ns() % 1_000_000))
    print(f"RCC_FAULT_SEED={seed}")
    rng = random.Random(seed)
    chair = await world.person("chair", "chair")
    world.spawn_bot()
    room = await world.rcc_room(chair, [])
    await chair.ask(room, "!whoami")
    world.kill_bot()
    commands, users = [], []
    streaming = True

    async def stream() -> None:
        while streaming:
            user = f"@kill{len(users)}-{world.tag}:rcc.test"
            users.append(user)
            commands.append(await chair.say(room, f"!roster add {user} role=steering force=yes"))
            await asyncio.sleep(rng.uniform(0.05, 0.8))  # pacing only: nothing waits on it

    streamer = asyncio.create_task(stream())
    log = BotLog(world.tmp / "bot.log")
    kills, busy = Counter(), 0
    for _ in range(KILLS):
        kills[await kill_at_a_random_point(world, log, rng)] += 1
        busy += log.handled() > 0
    streaming = False
    await streamer
    world.spawn_bot()
    await exactly_once(world, chair, room, commands, users)
    world.kill_bot()
    with sqlite3.connect(world.tmp / "rcc.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        seen = db.execute("SELECT count(*) FROM processed_event").fetchone()[0]
    assert seen >= len(commands)
    # Meaningful runs: most kills land after the run has committed a command of its own.
    assert busy >= KILLS // 3, f"only {busy} of {KILLS} killed runs got as far as a command"
    print(f"{KILLS} kills, {busy} after commands of their own: {dict(kills)}")
    print(f"{len(commands)} commands, each answered once")


async def test_homeserver_stopped_for_30s(world):
    chair = await world.person("chair", "chair")
    runtime = await world.start_bot()
    room = await world.rcc_room(chair, [])
    await chair.ask(room, "!whoami")
    requests = count_requests(runtime.client)
    delays = record_retry_delays(runtime.bot)
    user = f"@stopped-{world.tag}:rcc.test"
    command = await chair.say(room, f"!roster add {user} role=steering force=yes")
    await asyncio.to_thread(world.hs.stop)
    down = time.monotonic()
    await asyncio.sleep(OUTAGE)  # the length of the outage, not a wait for anything
    during = [t for t in requests if down <= t < down + OUTAGE]
    await asyncio.to_thread(world.hs.start)
    back = time.monotonic()
    assert_paced(during, delays)
    await wait_for(lambda: runtime.bot.last_sync > back, 120, interval=0.1)
    await exactly_once(world, chair, room, [command], [user])
    recovered = runtime.bot.last_sync - back
    print(f"{len(during)} requests while down; syncing again {recovered:.1f}s after return")


def assert_paced(during: list, delays: list[float]) -> None:
    """At most about one request a second while the homeserver fails, and never a wait
    longer than the backoff's cap, so the bot is back within ~8 s of the homeserver."""
    assert len(during) <= OUTAGE * 1.1, f"{len(during)} requests in {OUTAGE:.0f}s of outage"
    assert delays, "the sync loop never backed off"
    assert min(delays) >= BASE, "never faster than one retry a second"
    assert max(delays) <= CAP * (1 + JITTER), f"waited {max(delays):.1f}s between retries"


async def test_homeserver_answering_502_for_30s(world):
    proxy = FlakyProxy(world.hs.url)
    await proxy.start()
    try:
        world.homeserver = proxy.url
        chair = await world.person("chair", "chair")
        runtime = await world.start_bot()
        room = await world.rcc_room(chair, [])
        await chair.ask(room, "!whoami")
        delays = record_retry_delays(runtime.bot)
        proxy.fail(True)
        down = time.monotonic()
        commands, users = [], []
        for n in range(3):  # sent meanwhile, straight to Synapse, spread over the outage
            users.append(f"@gateway{n}-{world.tag}:rcc.test")
            commands.append(
                await chair.say(room, f"!roster add {users[-1]} role=steering force=yes")
            )
            await asyncio.sleep(5)
        await asyncio.sleep(OUTAGE - (time.monotonic() - down))
        proxy.fail(False)
        back = time.monotonic()
        during = proxy.between(down, back)
        assert {status for _, _, status in during} == {502}
        assert_paced(during, delays)
        await wait_for(lambda: runtime.bot.last_sync > back, 120, interval=0.1)
        await exactly_once(world, chair, room, commands, users)
        recovered = runtime.bot.last_sync - back
        print(f"{len(during)} requests during the 502s; syncing {recovered:.1f}s after")
    finally:
        await world.stop_bot()
        await proxy.stop()


async def test_offline_gap_of_200_messages_with_5_commands(world):
    chair = await world.person("chair", "chair")
    await world.start_bot()
    room = await world.rcc_room(chair, [])
    await chair.ask(room, "!whoami")
    await world.stop_bot()
    commands, users = [], []
    for n in range(200):
        if n in (0, 41, 99, 150, 199):
            users.append(f"@gap{n}-{world.tag}:rcc.test")
            commands.append(
                await chair.say(room, f"!roster add {users[-1]} role=steering force=yes")
            )
        else:
            await chair.say(room, f"chatter {n}")
    runtime = await world.start_bot()
    await exactly_once(world, chair, room, commands, users)
    assert runtime.bot.inbox.handled == 5 + 1  # and the barrier's !whoami


async def test_command_runs_once_when_its_key_arrives_late(world):
    world.extra_config = 'undecryptable_notice_after = "1h"'  # no notice: only the late key
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    runtime = await world.start_bot()
    room = await world.rcc_room(chair, [jm])
    await chair.ask(room, "!whoami")
    olm = chair.client.olm
    device = chair.client.device_store[world.bot_id][runtime.client.device_id]
    # A fresh key session the bot's device is left out of; its key is kept at index 0.
    chair.client.blacklist_device(device)
    olm.outbound_group_sessions.pop(room, None)
    olm.create_outbound_group_session(room)
    session = olm.outbound_group_sessions[room]
    key = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "room_id": room,
        "session_id": session.id,
        "session_key": session.session_key,
    }
    user = f"@latekey-{world.tag}:rcc.test"
    command = await chair.say(room, f"!roster add {user} role=steering force=yes")
    await wait_for(lambda: runtime.bot.inbox.pending_undecrypted == 1)
    # Three more syncs, each followed by a retry that still fails (jm's answers prove them).
    for _ in range(3):
        await jm.ask(room, "!whoami")
    assert runtime.bot.inbox.pending_undecrypted == 1
    assert chair.replies_to(command) == []
    # The key reaches the bot late, as a to-device message like any room key.
    payload = olm._olm_encrypt(olm.session_store.get(device.curve25519), device, "m.room_key", key)
    await chair.client.to_device(
        ToDeviceMessage("m.room.encrypted", world.bot_id, device.id, payload)
    )
    await exactly_once(world, chair, room, [command], [user])
    assert runtime.bot.inbox.pending_undecrypted == 0


HOSTILE = [
    '!incident new severity=high tlp=amber <script>alert("x")</script> title',
    "!lesson add <img src=x onerror=alert(1)> [click](javascript:alert(1))",
    '!resource add kind=tool <a href="javascript:alert(1)">x</a> "unterminated',
    "!status set " + "[" * 200 + "]" * 200,
    "!whoami " + "\u202e\u0000" + "𝕏" * 1500,
    "!broadcast severity=high <iframe src=https://evil.example></iframe>",
]


async def test_hostile_input_through_synapse(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    await world.start_bot()
    room = await world.rcc_room(chair, [jm])
    await chair.ask(room, "!whoami")
    for body in HOSTILE:
        reply = await jm.ask(room, body)
        html = reply.source["content"].get("formatted_body", "")
        assert html_problems(html) == [], (body, html)
    # An edit of a command is not a new command; its sender is told so, once.
    old = await chair.say(room, "!whoami")
    await chair.reply_to(old)
    edit = {
        "msgtype": "m.text",
        "body": f" * !roster add @edited-{world.tag}:rcc.test role=steering",
        "m.new_content": {
            "msgtype": "m.text",
            "body": f"!roster add @edited-{world.tag}:rcc.test role=steering",
        },
        "m.relates_to": {"rel_type": "m.replace", "event_id": old},
    }
    edited = await chair.say(room, "", content=edit)
    told = await chair.reply_to(edited)
    assert "Edits are not run" in told.body and "send it again" in told.body
    again = await chair.say(room, "", content=edit)  # edited once more: no second word
    await world.barrier(chair, room)
    assert chair.replies_to(again) == []
    assert len(chair.replies_to(old)) == 1
    assert await world.rows(RosterEntry, RosterEntry.user_id.like("@edited-%")) == []


async def test_a_strangers_hostile_messages_hold_up_nobody(world, monkeypatch):
    """16,000 unpaired quotes stalled the bot for 36 s before the next command."""
    from tests.test_dispatcher import CountingTokenizer

    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    stranger = await world.person("stranger")  # in the room, not on the roster
    await world.start_bot()  # in this process: its tokenizer is counted
    room = await world.rcc_room(chair, [jm, stranger])
    await jm.ask(room, "!whoami")
    counted = CountingTokenizer(monkeypatch)
    # (16,000 of them do not fit in one encrypted event, as JSON escapes: 6,000 do)
    floods = [await stranger.say(room, "!status note " + "„" * 6_000) for _ in range(3)]
    named_only = await stranger.say(room, "!incident new tlp=red " + "„ " * 1_900)
    after = await jm.say(room, "!whoami")
    answer = await jm.reply_to(after)
    assert "NCPOC for Jamaica" in answer.body
    order = [e.event_id for _, e in jm.messages]
    for flood in floods:
        (refusal,) = jm.replies_to(flood)
        assert "too long for a command" in refusal.body and len(refusal.body.splitlines()) == 1
        assert order.index(refusal.event_id) < order.index(answer.event_id)
    (refused,) = jm.replies_to(named_only)
    assert "not on the roster" in refused.body
    # The long ones were never tokenized; the one under the limit only by its first words.
    assert sum(counted.steps) <= 3 * 200 + 3 * len("!whoami"), counted.steps


async def test_a_stranger_with_the_chairs_name_is_refused_and_audited(world):
    chair = await world.person("chair", "chair")
    spoof = await world.person("spoof")  # not on the roster
    await chair.client.set_displayname("RCC Chair")
    await spoof.client.set_displayname("RCC Chair")
    runtime = await world.start_bot()
    room = await world.rcc_room(chair, [spoof])
    await chair.ask(room, "!whoami")
    command = await spoof.say(room, "!broadcast severity=high Evacuate the data centre")
    reply = await spoof.reply_to(command)
    assert "not on the roster" in reply.body
    await world.barrier(chair, room)
    async with runtime.app.db.unit(write=False) as store:
        assert await store.broadcasts.get(1) is None
    (audit,) = await world.rows(AuditEntry, AuditEntry.event_id == command)
    assert (audit.actor, audit.outcome) == (spoof.user_id, "refused")
    seen = await world.rows(ProcessedEvent, ProcessedEvent.event_id == command)
    assert len(seen) == 1
