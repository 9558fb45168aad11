"""Command round trip, memory and cold start: the bot next to its two floors.

The floors (bench/echo.py): a bare nio echo bot, and the stack floor — the same echo bot with
the product's fixed stack (SQLModel, the storage package's tables, one row committed per
command with the bot's durability). An NCPOC's real client sends an encrypted command and
waits for the decrypted reply, N times in a row, alternating between the bot's room and each
floor's room so all see the same homeserver load. Then the resident memory of each, and the
time from starting each process (existing store and database) to its first reply. Writes
bench/results/roundtrip.json.

    .venv/bin/python -m bench.roundtrip [--n 200]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.common import machine, write_result
from bench.scene import Scene, cpu_seconds, rss_mb, summary, timed_ask

COMMANDS = {
    "status set": ["!status set legal.strategy met", "!status set legal.strategy in-progress"],
    "whoami": ["!whoami"],
}


WHO = ("bot", "echo", "stack")


async def round_trips(scene: Scene, person, rooms: dict[str, str], n: int) -> dict:
    results = {}
    pids = {who: scene.processes[who].pid for who in WHO}
    for name, texts in COMMANDS.items():
        times: dict[str, list[float]] = {who: [] for who in WHO}
        cpu = {who: cpu_seconds(pid) for who, pid in pids.items()}
        for i in range(n):
            for who in WHO:
                text = texts[i % len(texts)]
                times[who].append(await timed_ask(person, rooms[who], text))
        results[name] = {who: summary(values) for who, values in times.items()}
        for who, pid in pids.items():  # the process's own work: steadier than wall time
            results[name][who]["cpu_ms"] = (cpu_seconds(pid) - cpu[who]) * 1000 / n
        bot = results[name]["bot"]
        results[name]["ratio_median"] = bot["median_ms"] / results[name]["echo"]["median_ms"]
        results[name]["ratio_stack"] = bot["median_ms"] / results[name]["stack"]["median_ms"]
        results[name]["cpu_over_stack_ms"] = bot["cpu_ms"] - results[name]["stack"]["cpu_ms"]
        results[name]["samples"] = {
            who: [v * 1000 for v in values] for who, values in times.items()
        }
    return results


async def after_a_digest(scene: Scene) -> float:
    """The bot's memory once a digest and its two files (HTML report, heatmap) are out: the
    picture is drawn in a child process, so the bot should be back near its idle size. The
    chair asks for it in a direct chat (NCPOCs do not compile digests)."""
    person = await scene.person(scene.chair_account)
    room = await scene.room_with(person, scene.bot_account.user_id)
    files = len(person.files)
    reply = await person.ask(room, "!digest", within=120)
    if "digest" not in reply.body:
        raise RuntimeError(f"no digest: {reply.body[:200]}")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120
    while len(person.files) < files + 2:  # the report and the heatmap, sent after the text
        if loop.time() > deadline:
            raise TimeoutError(f"the digest's files did not arrive ({person.files[files:]})")
        await asyncio.sleep(0.1)
    return rss_mb(scene.processes["bot"].pid)


async def cold_start(scene: Scene, person, rooms: dict[str, str]) -> dict:
    """Process start to first reply, with the store and database of the earlier run."""
    times = {}
    starts = {"bot": scene.start_bot, "echo": scene.start_echo, "stack": scene.start_stack}
    for who, start in starts.items():
        scene.stop(who)
        await asyncio.sleep(1)
        started = time.perf_counter()
        start()
        await person.ask(rooms[who], "!whoami", within=60)
        times[who] = time.perf_counter() - started
    return {f"{who}_s": seconds for who, seconds in times.items()}


async def main(n: int) -> None:
    async with Scene() as scene:
        scene.start_bot(), scene.start_echo(), scene.start_stack()
        person = await scene.person(scene.ncpoc_accounts[0])
        rooms = {
            "bot": await scene.room_with(person, scene.bot_account.user_id, alias="rcc"),
            "echo": await scene.room_with(person, scene.echo_account.user_id),
            "stack": await scene.room_with(person, scene.stack_account.user_id),
        }
        for who in WHO:  # warm up: key exchange, first megolm sessions
            for _ in range(5):
                await timed_ask(person, rooms[who], "!whoami")
        idle = {f"{who}_mb": rss_mb(scene.processes[who].pid) for who in WHO}
        trips = await round_trips(scene, person, rooms, n)
        after = {f"{who}_mb": rss_mb(scene.processes[who].pid) for who in WHO}
        after["bot_digest_mb"] = await after_a_digest(scene)
        cold = await cold_start(scene, person, rooms)
    report(trips, idle, after, cold)
    write_result(
        "roundtrip",
        {
            "machine": machine(),
            "n": n,
            "round_trips": trips,
            "memory_idle": idle,
            "memory_after": after,
            "cold_start": cold,
        },
    )


def report(trips: dict, idle: dict, after: dict, cold: dict) -> None:
    """The bot against both floors, side by side: ratios to the bare floor (echo) and to the
    stack floor, CPU per command over the stack floor's."""
    print(
        f"{'command':12} {'who':5} {'min':>8} {'median':>8} {'p95':>8} {'CPU/cmd':>8}"
        "  ratio to echo | to stack (median)"
    )
    for name, r in trips.items():
        for who in WHO:
            s = r[who]
            ratio = (
                f"{r['ratio_median']:.2f}x | {r['ratio_stack']:.2f}x "
                f"(CPU +{r['cpu_over_stack_ms']:.1f}ms)" if who == "bot" else ""
            )  # fmt: skip
            print(
                f"{name:12} {who:5} {s['min_ms']:7.1f}ms {s['median_ms']:7.1f}ms "
                f"{s['p95_ms']:7.1f}ms {s['cpu_ms']:6.1f}ms  {ratio}"
            )
    for when, mb in (("idle", idle), ("after the runs", after)):
        print(
            f"memory {when}: bot {mb['bot_mb']:.0f} MB, echo {mb['echo_mb']:.0f} MB, stack "
            f"{mb['stack_mb']:.0f} MB ({mb['bot_mb'] / mb['echo_mb']:.2f}x | "
            f"{mb['bot_mb'] / mb['stack_mb']:.2f}x)"
        )
    print(f"after a digest: bot {after['bot_digest_mb']:.0f} MB")
    print(
        f"cold start to first reply: bot {cold['bot_s']:.2f}s, echo {cold['echo_s']:.2f}s, "
        f"stack {cold['stack_s']:.2f}s ({cold['bot_s'] / cold['stack_s']:.2f}x of the stack)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    asyncio.run(main(parser.parse_args().n))
