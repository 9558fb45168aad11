"""Memory over months: many mixed commands through Synapse, the bot's resident memory sampled
every 1,000; does it stay flat once warm?

Two NCPOCs of a 40-NCPOC committee type status updates, incidents, lessons, searches and
listings into the RCC room, each waiting for the bot's answer before the next (two in flight:
the bot's flood limit is per sender; every client that syncs costs Synapse, the soak's
bottleneck); every 500 commands the chair broadcasts to all 40, every
1,000 asks for a digest in a DM (its report and heatmap are drawn). The bot's RSS is read every
1,000 commands. Growth is measured from the first sample after `--warm` commands (caches,
first megolm sessions and compiled templates fill during warm-up) to the last; the goal is
within 5 MB (issue 39). Writes bench/results/soak.json.

    .venv/bin/python -m bench.soak [--n 20000] [--warm 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time

from bench.common import machine, write_result
from bench.scene import Scene, rss_mb

SENDERS = 2  # each a syncing client: Synapse, not the bot, limits the pace (8 gave 3.5/s)
NCPOCS = 40  # two per country
EVERY_SAMPLE = 1000
EVERY_BROADCAST = 500
EVERY_DIGEST = 1000
GOAL_MB = 5.0


def commands(sender: int):
    """An NCPOC's endless mix: mostly writes and reads of the committee's records."""
    states = itertools.cycle(["met", "in-progress"])
    for n in itertools.count():
        yield f"!status set legal.strategy {next(states)} soak {sender}-{n}"
        yield f"!incident new severity=low tlp=green Phishing wave {sender}-{n} against a ministry"
        yield f"!lesson add area=technical tags=phishing Report phishing links early {sender}-{n}"
        yield "!lesson search phishing links"
        yield "!incident list"
        yield "!status"
        yield "!whoami"


async def sender(person, room: str, texts, budget: dict, done: list[int]) -> None:
    while budget["left"] > 0:
        budget["left"] -= 1
        reply = await person.ask(room, next(texts), within=300)
        if reply is None:
            raise RuntimeError("no answer")
        person.messages.clear()  # it looks for each answer among them: kept, that is n²
        done[0] += 1


async def chair_work(scene: Scene, chair, rcc: str, dm: str, done: list[int], n: int) -> dict:
    """Broadcasts and digests at their counts; RSS samples every EVERY_SAMPLE commands."""
    pid = scene.processes["bot"].pid
    samples: list[tuple[int, float, float]] = []
    next_sample, next_broadcast, next_digest = 0, EVERY_BROADCAST, EVERY_DIGEST
    started = time.perf_counter()
    broadcasts = digests = 0
    while done[0] < n:
        count = done[0]
        if count >= next_sample:
            samples.append((count, rss_mb(pid), time.perf_counter() - started))
            print(f"{count:6d} commands  {samples[-1][1]:6.1f} MB  {samples[-1][2]:7.0f}s")
            next_sample += EVERY_SAMPLE
        if count >= next_broadcast:
            broadcasts += 1
            await chair.ask(
                rcc, f"!broadcast severity=high Rotate the VPN keys today, round {broadcasts}", 300
            )
            chair.messages.clear()
            next_broadcast += EVERY_BROADCAST
        if count >= next_digest:
            digests += 1
            await chair.ask(dm, "!digest", within=300)
            chair.messages.clear()
            next_digest += EVERY_DIGEST
        await asyncio.sleep(0.5)
    samples.append((done[0], rss_mb(pid), time.perf_counter() - started))
    return {"samples": samples, "broadcasts": broadcasts, "digests": digests}


def growth(samples: list[tuple[int, float, float]], warm: int) -> float:
    after = [mb for count, mb, _ in samples if count >= warm]
    return after[-1] - after[0] if len(after) >= 2 else float("nan")


async def main(n: int, warm: int) -> None:
    async with Scene(ncpocs=NCPOCS) as scene:
        scene.start_bot()
        chair = await scene.person(scene.chair_account)
        people = [await scene.person(a) for a in scene.ncpoc_accounts[:SENDERS]]
        rcc = await scene.room_with(chair, scene.bot_account.user_id, people, alias="rcc")
        dm = await scene.room_with(chair, scene.bot_account.user_id)
        await chair.ask(rcc, "!whoami", within=120)
        done, budget = [0], {"left": n}
        work = [
            asyncio.create_task(sender(p, rcc, commands(i), budget, done))
            for i, p in enumerate(people)
        ]
        result = await chair_work(scene, chair, rcc, dm, done, n)
        await asyncio.gather(*work)
    result["growth_after_warm_mb"] = growth(result["samples"], warm)
    seconds = result["samples"][-1][2]
    print(
        f"{n} commands in {seconds:.0f}s, {result['broadcasts']} broadcasts to {NCPOCS}, "
        f"{result['digests']} digests; RSS growth after {warm} commands: "
        f"{result['growth_after_warm_mb']:+.1f} MB (goal within {GOAL_MB:.0f} MB)"
    )
    write_result("soak", {"machine": machine(), "n": n, "warm": warm, **result})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--warm", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.warm))
