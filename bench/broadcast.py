"""Broadcast fan-out: time from `!broadcast` to the last delivery, for 40 and 200 NCPOCs;
and under Synapse's default message rate limit, 20 countries x 3 contacts: when every
country was reached, and every recipient, against what the limit allows.

Every recipient has a device with keys and has joined its DM, as in real life, so both the
bot and the floor establish an Olm session per recipient and share the room key with it.
The floor is a bare matrix-nio script sending the same messages (one room message and one
encrypted DM per recipient, 8 at a time like the bot) from an account whose DMs exist and
whose recipients' devices are known before the clock starts; the bot's time also holds the
command's own trip from the chair through Synapse. Rate limits are lifted for both.
Under the limit the bot is not exempt: Synapse's default rc_message lets a burst of 10 through,
then one message every 5 s. The bot's messages are the RCC room's copy, then one DM per
country (primaries first), then the second and third contacts of each; so the limit allows
every country to be reached (10 - 1 - 20) x 5 s after the burst, and everyone after
(1 + 60 - 10) x 5 s. Writes bench/results/broadcast.json.

    .venv/bin/python -m bench.broadcast [--sizes 40,200] [--limited 20x3]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime

from nio import AsyncClient, AsyncClientConfig, RoomCreateResponse, RoomSendResponse

from bench.common import machine, write_result
from bench.scene import Scene, cpu_seconds
from bot.matrix.rooms import ENCRYPTION
from devkit.synapse import wait_for
from storage.db import Database

CONCURRENCY = 8
SETTLE = 5.0


class Recipients:
    """One logged-in device per NCPOC (keys uploaded), which joins the rooms it is invited to.

    Not a full client: it never syncs on its own, so two hundred of them stay cheap.
    """

    def __init__(self, scene: Scene) -> None:
        self.scene, self.clients = scene, []
        self.limit = asyncio.Semaphore(16)

    async def start(self) -> None:
        async def one(account) -> AsyncClient:
            async with self.limit:
                store = self.scene.tmp / f"device-{account.localpart}"
                store.mkdir()
                config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False)
                client = AsyncClient(self.scene.hs.url, account.user_id, "", str(store), config)
                await client.login(account.password)
                await client.keys_upload()
                return client

        self.clients = await asyncio.gather(*(one(a) for a in self.scene.ncpoc_accounts))

    async def accept_invites(self) -> None:
        async def one(client: AsyncClient) -> None:
            async with self.limit:
                await client.sync(timeout=0, full_state=True)
                for room_id in list(client.invited_rooms):
                    await client.join(room_id)

        await asyncio.gather(*(one(c) for c in self.clients))

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients))


async def bare_floor(scene: Scene, devices: Recipients) -> tuple[float, float]:
    """A bare nio script: create its rooms and learn the devices first, then time the sends."""
    recipients = [a.user_id for a in scene.ncpoc_accounts]
    account = scene.hs.register("bare", "bare-password")
    scene.hs.unlimit(account.user_id)
    config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False)
    store = scene.tmp / "bare-store"
    store.mkdir()
    client = AsyncClient(scene.hs.url, account.user_id, "BARE", str(store), config)
    await client.login("bare-password")
    await client.keys_upload()
    rooms = []
    for user in [None, *recipients]:
        response = await client.room_create(
            invite=[user] if user else [], initial_state=[ENCRYPTION]
        )
        assert isinstance(response, RoomCreateResponse), response
        rooms.append(response.room_id)
    await devices.accept_invites()
    await client.sync(timeout=0, full_state=True)
    for room in rooms:  # what the bot's sync loop has done long before a broadcast
        await client.joined_members(room)
    if client.should_query_keys:
        await client.keys_query()
    limit = asyncio.Semaphore(CONCURRENCY)

    async def send(room: str) -> None:
        async with limit:
            response = await client.room_send(
                room,
                "m.room.message",
                {"msgtype": "m.notice", "body": "BC-1 bare broadcast"},
                ignore_unverified_devices=True,
            )
            assert isinstance(response, RoomSendResponse), response

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(send(room) for room in rooms))
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    await client.close()
    return took, cpu


async def ready(scene: Scene, size: int, devices: Recipients):
    """The bot running with a DM open to every recipient, joined: (process, chair, RCC
    room, the bot's database)."""
    bot = scene.start_bot()
    chair = await scene.person(scene.chair_account)
    rcc = await scene.room_with(chair, scene.bot_account.user_id, alias="rcc")
    db = Database(f"sqlite+aiosqlite:///{scene.tmp / 'rcc.db'}")

    async def dms_ready():
        async with db.unit(write=False) as store:
            return len(await store.rooms.direct_users()) >= size + 1

    await wait_for(dms_ready, 600, interval=0.5)
    await devices.accept_invites()
    await asyncio.sleep(SETTLE)  # the bot syncs the joins and queries the new devices' keys
    return bot, chair, rcc, db


async def delivered(db: Database, size: int):
    """Once all of BC-1 is sent (the room's copy and a DM each): its outbox rows and its
    recipients; else None."""
    async with db.unit(write=False) as store:
        target = await store.broadcasts.get(1)
        if target is None:
            return None
        rows = await store.outbox.sent_for(f"broadcast:{target.id}")
        if len(rows) < size + 1:
            return None
        return rows, await store.broadcasts.recipients(target.key)


async def bot_fan_out(scene: Scene, size: int, devices: Recipients) -> tuple[float, float]:
    bot, chair, rcc, db = await ready(scene, size, devices)
    # Measured on the wall clock: the end is the bot's own record of its last delivery.
    started, cpu = datetime.now(UTC), cpu_seconds(bot.pid)
    await chair.say(rcc, "!broadcast severity=high Fan-out benchmark")

    rows, _ = await wait_for(lambda: delivered(db, size), 600, interval=0.2)
    cpu = cpu_seconds(bot.pid) - cpu  # to a poll after the last delivery: a little over
    await db.close()
    return (max(r.sent_at for r in rows) - started).total_seconds(), cpu


async def measure(size: int) -> dict:
    async with Scene(ncpocs=size, open_dms=True) as scene:
        devices = Recipients(scene)
        await devices.start()
        try:
            bot, bot_cpu = await bot_fan_out(scene, size, devices)
            floor, floor_cpu = await bare_floor(scene, devices)
        finally:
            await devices.close()
    return {
        "recipients": size,
        "bot_s": bot,
        "floor_s": floor,
        "ratio": bot / floor,
        "bot_ms_per_recipient": bot / size * 1000,
        "bot_cpu_ms_per_recipient": bot_cpu / size * 1000,
        "floor_cpu_ms_per_recipient": floor_cpu / size * 1000,
    }


BURST, EVERY = 10, 5.0  # Synapse's default rc_message: burst_count 10, per_second 0.2
TIERS = [("ncpoc", "primary"), ("ncpoc", "alternate"), ("contact", "cirt"), ("contact", "other")]


def allowed(n: int) -> float:
    """Seconds after the first message before the n-th (1-based) may go, at the limit."""
    return max(0, n - BURST) * EVERY


async def rate_limited(countries: int, per_country: int) -> dict:
    from commands.reference import load_countries

    codes = [c.code for c in load_countries()][:countries]
    layout: list[tuple[str, str, str | None]] = [
        (code, role, kind) for code in codes for role, kind in TIERS[:per_country]
    ]
    size = len(layout)
    async with Scene(layout=layout, open_dms=True) as scene:
        devices = Recipients(scene)
        await devices.start()
        try:
            bot, chair, rcc, db = await ready(scene, size, devices)
            await asyncio.to_thread(scene.hs.limit, scene.bot_account.user_id)
            started = datetime.now(UTC)
            await chair.say(rcc, "!broadcast severity=high Rate-limited roll-call")

            rows, people = await wait_for(lambda: delivered(db, size), 1800, interval=1)
            sent = {r.id: r.sent_at for r in rows}
            by_person = [(p.country, sent[p.dm_outbox_id]) for p in people]
            await db.close()
            assert bot.poll() is None, "the bot stopped"
        finally:
            await devices.close()
    first: dict[str, datetime] = {}
    for country, at in by_person:
        first[country] = min(at, first.get(country, at))
    countries_s = (max(first.values()) - started).total_seconds()
    everyone_s = (max(r.sent_at for r in rows) - started).total_seconds()
    ideal_countries, ideal_everyone = allowed(1 + countries), allowed(1 + size)
    return {
        "countries": countries,
        "recipients": size,
        "every_country_s": countries_s,
        "every_country_allowed_s": ideal_countries,
        "every_country_ratio": countries_s / ideal_countries,
        "everyone_s": everyone_s,
        "everyone_allowed_s": ideal_everyone,
        "everyone_ratio": everyone_s / ideal_everyone,
    }


async def main(sizes: list[int], limited: tuple[int, int] | None) -> None:
    results = [await measure(size) for size in sizes]
    print(
        f"{'recipients':>10} {'bot':>8} {'bare nio':>9} {'ratio':>6} {'bot per recipient':>18}"
        f" {'CPU per recipient, bot/bare':>28}"
    )
    for r in results:
        print(
            f"{r['recipients']:>10} {r['bot_s']:>7.2f}s {r['floor_s']:>8.2f}s "
            f"{r['ratio']:>5.2f}x {r['bot_ms_per_recipient']:>15.1f}ms "
            f"{r['bot_cpu_ms_per_recipient']:>18.1f} / {r['floor_cpu_ms_per_recipient']:.1f}ms"
        )
    limit = await rate_limited(*limited) if limited else None
    if limit:
        print(
            f"under the default rate limit, {limit['countries']} countries x "
            f"{limit['recipients'] // limit['countries']}: every country reached in "
            f"{limit['every_country_s']:.0f}s (the limit allows "
            f"{limit['every_country_allowed_s']:.0f}s: {limit['every_country_ratio']:.2f}x), "
            f"everyone in {limit['everyone_s']:.0f}s "
            f"({limit['everyone_allowed_s']:.0f}s: {limit['everyone_ratio']:.2f}x)"
        )
    write_result("broadcast", {"machine": machine(), "results": results, "rate_limited": limit})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="40,200")
    parser.add_argument("--limited", default="20x3", help="countries x contacts, or none")
    args = parser.parse_args()
    shape = None if args.limited == "none" else tuple(int(n) for n in args.limited.split("x"))
    sizes = [int(s) for s in args.sizes.split(",") if s]
    asyncio.run(main(sizes, shape))  # type: ignore[arg-type]
