"""Two sites through Synapse (issue 38): two bot processes, one PostgreSQL, one homeserver.

The active node is killed again and again at points chosen by its progress (a crash point on
its k-th passage: inside a job's unit before it commits, after it commits, after its k-th
send), while broadcasts fan out; the standby takes over within `takeover_after` and the dead
node comes back as the standby. At the end every room holds exactly the messages the outbox
says were sent, each once. And a node stopped (SIGSTOP) past its lease, then let go on
(SIGCONT) after the other took over, sends nothing, while what was typed during the switch
is answered once.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from bot.matrix.crosssign import KEYS_FILE
from devkit.synapse import environment_without_proxies, free_port, wait_for
from storage.broadcasts import Broadcast, BroadcastRecipient
from storage.lease import Lease
from storage.notices import Notice
from storage.outbox import OutboxMessage
from tests.test_faults_jobs import each_broadcast_once, each_room_holds_its_outbox_once, seeded

pytestmark = [pytest.mark.synapse, pytest.mark.faults, pytest.mark.timeout(1500)]

KILLS = int(os.environ.get("RCC_HA_KILLS", "20"))
TAKEOVER = 3  # seconds: [ha] takeover_after in these scenes
NCPOCS = 8
POINTS = ("before-job-commit", "after-job-commit", "after-send")
CODES = ["JM", "TT", "BB", "LC", "GD", "DM", "AG", "KN"]


class Node:
    """One site's bot process, with its own store (device) and log, on the shared database."""

    def __init__(self, world, name: str) -> None:
        self.world, self.name = world, name
        self.store = world.tmp / f"store-{name}"
        self.log = world.tmp / f"bot-{name}.log"
        self.health = free_port()
        self.process: subprocess.Popen | None = None

    def config(self) -> Path:
        text = self.world.config_path().read_text()
        text = text.replace(f'store_path = "{self.world.tmp / "store"}"',
                            f'store_path = "{self.store}"')  # fmt: skip
        path = self.world.tmp / f"config-{self.name}.toml"
        path.write_text(
            text + f'\n[ha]\nrole = "active"\nnode = "{self.name}"\n'
            f'takeover_after = "{TAKEOVER}s"\n\n[health]\nlisten = "127.0.0.1:{self.health}"\n'
        )
        return path

    def spawn(self, crash_at: str | None = None, *, standby: bool = False) -> None:
        env = environment_without_proxies()
        env.pop("RCC_CRASH_AT", None)
        if crash_at:
            env["RCC_CRASH_AT"] = crash_at
        script = Path(sys.executable).with_name("rcc-bot")
        args = [script, "run", "--config", self.config(), *(["--standby"] if standby else [])]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.world.tmp
            )

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.alive:
            assert self.process is not None
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    @property
    def stopped(self) -> bool:
        """Stopped by a signal (SIGSTOP), as /proc says."""
        assert self.process is not None
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] == "T"

    def healthz(self) -> dict:
        url = f"http://127.0.0.1:{self.health}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return json.loads(answer.read())
        except OSError:
            return {}

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.health}/metrics"
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.read().decode()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


async def holder(world) -> str | None:
    (lease,) = await world.rows(Lease) or [None]
    return lease.holder if lease is not None else None


async def two_sites(world, pg_url: str, ncpocs: int = NCPOCS, crash_at: str | None = None):
    """The chair in the RCC room; NCPOCs on the homeserver; node a acting, node b standing by
    with a's cross-signing keys copied to its store, as the README says."""
    world.db_url = pg_url
    chair = await world.person("chair", "chair")
    for n in range(ncpocs):
        account = world.hs.register(f"ncpoc{n}-{world.tag}")
        world.roster.append((account.user_id, "ncpoc", CODES[n % len(CODES)]))
    a, b = Node(world, "a"), Node(world, "b")
    world.nodes = [a, b]
    a.spawn(crash_at)
    await wait_for(lambda: (a.store / KEYS_FILE).exists(), 240, 0.1)
    await wait_for(lambda: _is(world, "a"), 240, 0.1)
    b.store.mkdir(parents=True, exist_ok=True)
    shutil.copy(a.store / KEYS_FILE, b.store / KEYS_FILE)
    b.spawn(standby=True)
    await wait_for(lambda: b.healthz().get("role") == "standby", 240, 0.2)
    rcc = await world.rcc_room(chair, [])
    await chair.ask(rcc, "!whoami")
    return chair, rcc, a, b


async def _is(world, node: str) -> bool:
    return await holder(world) == node


async def drained(world, typed: list[str]) -> bool:
    """Every broadcast typed is recorded, fanned out and sent."""
    found = await world.rows(Broadcast)
    undelivered = await world.rows(BroadcastRecipient, BroadcastRecipient.dm_outbox_id.is_(None))
    unsent = await world.rows(OutboxMessage, OutboxMessage.state == "pending")
    return len(found) == len(typed) and not undelivered and not unsent


@pytest.fixture
def closing_nodes(world):
    world.nodes = []
    yield
    for node in world.nodes:
        node.kill()


async def test_kill_the_active_node_again_and_again_while_broadcasts_fan_out(
    world, pg_url, closing_nodes
):
    rng = seeded()
    chair, rcc, a, b = await two_sites(world, pg_url)
    nodes = {"a": a, "b": b}
    typed: list[str] = []
    kills: Counter = Counter()
    takeovers = 0
    while sum(kills.values()) < KILLS:
        active = nodes[await wait_for(lambda: holder(world), 240, 0.1)]
        standby = b if active is a else a
        kills[await one_round(world, chair, rcc, active, standby, typed, rng)] += 1
        takeovers += 1
    for node in (a, b):  # a last, undisturbed node finishes the work
        if not node.alive:
            node.spawn(standby=True)
    await wait_for(lambda: drained(world, typed), 240, 0.2)
    sent = await each_broadcast_once(world, rcc, len(typed), NCPOCS)
    told = await world.rows(Notice, Notice.kind == "taken_over")
    assert len(told) >= takeovers, "the chair hears of every take-over"
    print(f"{len(typed)} broadcasts, {sent} messages each once; {dict(kills)}")


async def test_a_stopped_node_sends_nothing_once_the_other_has_taken_over(
    world, pg_url, closing_nodes
):
    # Node a stops itself in the middle of the fan-out, right after a send it has not yet
    # recorded: its first sends are the answer to !whoami, the broadcast's confirmation and
    # its announcement in the RCC room, then the DMs.
    chair, rcc, a, b = await two_sites(world, pg_url, crash_at="after-send:6!stop")
    assert a.healthz()["role"] == "active" and b.healthz()["active"] == "a"
    typed = [await chair.say(rcc, "!broadcast severity=high Switch to the fallback channel now")]
    await wait_for(lambda: a.stopped, 240, 0.05)
    assert a.process is not None
    stopped_at = time.monotonic()
    asked = [await chair.say(rcc, "!whoami") for _ in range(3)]  # typed during the switch
    await wait_for(lambda: _is(world, "b"), 240, 0.1)
    assert time.monotonic() - stopped_at < TAKEOVER * 3 + 30
    for command in asked:
        await chair.reply_to(command, within=120)
    who = await chair.ask(rcc, "!whoami bot")
    assert "node b is acting now" in who.body
    assert "not sent again" in b.log_text(), "what a sent but had not recorded is found"
    await wait_for(lambda: drained(world, typed), 240, 0.2)
    before = {e["event_id"] for e in await _bot_events(world)}
    os.kill(a.process.pid, signal.SIGCONT)  # it wakes up past its lease
    assert await _exit_code(a) == 75, "a node that lost the lease ends, to come back standing by"
    assert "lost the lease" in a.log_text()
    mine = device_of(a)
    after = [
        e for e in await _bot_events(world)
        if e["event_id"] not in before and e["content"].get("device_id") == mine
    ]  # fmt: skip
    assert not after, f"the stopped node sent {len(after)} message(s) after waking"
    await world.barrier(chair, rcc)
    assert all(len(chair.replies_to(c)) == 1 for c in asked), "each answered once"
    await each_room_holds_its_outbox_once(world)
    assert b.healthz()["role"] == "active"
    assert "rcc_takeovers_total 1.0" in b.metrics(), "the take-over is counted"


async def one_round(world, chair, rcc, active: Node, standby: Node, typed, rng) -> str:
    """The killed node back as the standby (armed to die at a point of its progress once it
    acts); a broadcast when the last is done; the active node dead at its crash point or
    killed once idle; the standby holding the lease. Returns how the active node ended."""
    if not standby.alive:
        standby.spawn(f"{rng.choice(POINTS)}:{rng.randint(1, 8)}", standby=True)
        # Up: standing by, or acting at once if the active node died meanwhile.
        await wait_for(lambda: not standby.alive or standby.healthz().get("role"), 240, 0.2)
    if await drained(world, typed):
        typed.append(
            await chair.say(
                rcc, f"!broadcast severity=high Switch to fallback channel {len(typed) + 1}"
            )
        )
    await wait_for(lambda: not active.alive or drained(world, typed), 240, 0.1)
    ended = "crash point"
    if active.alive:
        active.kill()
        ended = "idle"
    else:
        assert active.process is not None and active.process.returncode == -9
    started = time.monotonic()
    await wait_for(lambda: _is(world, standby.name), 240, 0.1)
    print(f"{standby.name} took over in {time.monotonic() - started:.1f}s ({ended})")
    return ended


async def _dms_sent(world, at_least: int) -> bool:
    sent = await world.rows(
        OutboxMessage, OutboxMessage.to_user.is_not(None), OutboxMessage.state == "sent"
    )
    return len(sent) >= at_least


async def _exit_code(node: Node) -> int:
    await wait_for(lambda: not node.alive, 240, 0.1)
    assert node.process is not None
    return node.process.returncode


async def _bot_events(world) -> list[dict]:
    """Every event the bot has in the rooms it wrote to, as the homeserver holds them."""
    rows = await world.rows(OutboxMessage, OutboxMessage.room_id.is_not(None))
    events: list[dict] = []
    for room in {r.room_id for r in rows}:
        held = await asyncio.to_thread(world.hs.room_events, room, 1000)
        events += [e for e in held if e["sender"] == world.bot_id]
    return events


def device_of(node: Node) -> str:
    found = re.search(r"device (RCCBOT\w+)", node.log_text())
    assert found, "the node logged its device"
    return found.group(1)
