"""Digest compile time on a synthetic ten-year history, and its growth as history grows;
listings and searches on the largest history.

One history: 20 countries, ~50k status updates, ~20k incidents, ~5k lessons, ~1k resources,
notes and reports over ten years. The benchmark builds 1x, 2x, 4x and 10x that history (the
extra copies spread over earlier decades) in SQLite and times `build()` for the latest
quarter, the median of several runs (goal at 10x: under 0.5 s, issue 39). On the largest it
also times, in-process through the dispatcher as an NCPOC types them, the listings and
searches people use most (goal: each under 50 ms). Prints tables and writes
bench/results/digest.json.

    .venv/bin/python -m bench.digest [--scales 1,2,4,10] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy import text as sql

from bench.common import machine, write_result
from bot.app import App
from bot.config import load_config
from commands.audience import Audience, Viewer
from commands.digest.data import build, digest_period
from commands.values import Clearance, RoomKind
from storage.incidents import Incident
from storage.lessons import Lesson
from storage.resources import Resource
from storage.status import Report, StatusNote, StatusUpdate

YEARS = 10
PER_DECADE = {"status": 50_000, "incidents": 20_000, "lessons": 5_000, "resources": 1_000}
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
STATES = ("not-started", "in-progress", "met", "n/a")
TLPS = ("clear", "green", "green", "amber", "amber+strict", "red")
CHAIR, NCPOC = "@chair:bench", "@jm1:bench"
# Lessons as people write them, on 50 themes: a search for two words finds one theme's
# share (every lesson alike, as this bench had them, made every search rank them all).
LESSONS = [
    f"{topic.capitalize()} {means} sped up the response"
    for topic in ("takedown", "phishing", "ransomware", "backup", "patching", "logging",
                  "registrar", "isp", "bank", "ministry")
    for means in ("contacts", "playbooks", "drills", "hotlines", "agreements")
]  # fmt: skip
LISTINGS = (  # what an NCPOC types most in the RCC room, on the whole history
    "!status",
    "!status TT",
    "!gaps",
    "!incident list",
    "!incident list all severity=high",
    "!lesson search takedown contacts",
    "!lesson list tag=phishing",
    "!resource list kind=lab",
)
GOAL_DIGEST_S, GOAL_LISTING_MS = 0.5, 50
# The digest as the Steering Committee's encrypted room sees it.
STEERING_ROOM = Viewer(Audience(Clearance.STEERING, "!steering", closed=True))


def config_file(directory: Path) -> Path:
    path = directory / "bench.toml"
    path.write_text(
        f"""
[matrix]
homeserver = "http://127.0.0.1:1"
user_id = "@bench:bench"
store_path = "{directory / "store"}"
[storage]
url = "sqlite+aiosqlite:///{directory / "bench.db"}"
[committee]
timezone = "America/Port_of_Spain"
rcc_room = "!rcc"
steering_room = "!steering"
[[roster]]
user_id = "{CHAIR}"
role = "chair"
[[roster]]
user_id = "{NCPOC}"
role = "ncpoc"
country = "JM"
"""
    )
    return path


def moment(rng: random.Random, decade: int) -> datetime:
    """A random time in decade `decade` back from now (0 is the last ten years)."""
    span = timedelta(days=365 * YEARS)
    return NOW - span * decade - span * rng.random()


async def seed(app: App, scale: int, rng: random.Random) -> None:
    countries = [c.code for c in app.config.reference.countries]
    items = [i.id for i in app.config.reference.catalogue.items]
    number = {"incident": 0, "lesson": 0, "resource": 0}

    def rows(kind: str, decade: int):
        count = PER_DECADE[kind]
        for _ in range(count):
            yield rng.choice(countries), moment(rng, decade)

    async with app.db.engine.begin() as conn:
        for decade in range(scale):
            await conn.execute(
                insert(StatusUpdate),
                [
                    {
                        "country": c,
                        "item_id": rng.choice(items),
                        "state": rng.choice(STATES),
                        "note": "progress reported",
                        "author": f"@{c.lower()}1:bench",
                        "at": at,
                    }
                    for c, at in rows("status", decade)
                ],
            )
            incidents = []
            for c, at in rows("incidents", decade):
                number["incident"] += 1
                incidents.append(
                    {
                        "number": number["incident"],
                        "title": f"Incident {number['incident']}",
                        "severity": rng.choice(("low", "medium", "high", "critical")),
                        "tlp": rng.choice(TLPS),
                        "status": rng.choice(("open", "closed")),
                        "sectors": f",{rng.choice(('finance', 'energy', 'government'))},",
                        "countries": f",{c},",
                        "reporter": "@x:bench",
                        "reporter_country": c,
                        "origin_room": "!rcc",
                        "created_at": at,
                        "updated_at": at,
                    }
                )
            await conn.execute(insert(Incident), incidents)
            lessons = []
            for c, at in rows("lessons", decade):
                number["lesson"] += 1
                lessons.append(
                    {
                        "number": number["lesson"],
                        "text": rng.choice(LESSONS),
                        "tags": ",phishing,",
                        "tlp": rng.choice(TLPS),
                        "country": c,
                        "origin_room": "!rcc",
                        "created_at": at,
                    }
                )
            await conn.execute(insert(Lesson), lessons)
            resources = []
            for c, at in rows("resources", decade):
                number["resource"] += 1
                resources.append(
                    {
                        "number": number["resource"],
                        "kind": "lab",
                        "country": c,
                        "description": "Forensics lab",
                        "tlp": "green",
                        "author": "@x:bench",
                        "origin_room": "!rcc",
                        "created_at": at,
                    }
                )
            await conn.execute(insert(Resource), resources)
            await conn.execute(
                insert(StatusNote),
                [
                    {"country": c, "text": "Awareness week", "author": "@x:bench", "at": at}
                    for c, at in (
                        (rng.choice(countries), moment(rng, decade)) for _ in range(2000)
                    )
                ],
            )
            await conn.execute(
                insert(Report),
                [
                    {"country": c, "period": "q", "note": "", "author": "@x:bench", "at": at}
                    for c, at in ((rng.choice(countries), moment(rng, decade)) for _ in range(800))
                ],
            )
        await conn.execute(  # what `record` keeps as it writes (migration 0034 does the same)
            sql(
                "INSERT INTO status_current (country, item_id, update_id) SELECT country, "
                "item_id, max(id) FROM status_update WHERE undone_at IS NULL GROUP BY country, "
                "item_id"
            )
        )


async def listings(app: App, runs: int) -> dict[str, float]:
    """Median milliseconds of each listing, through the dispatcher (parse, check, query,
    render), as the NCPOC of Jamaica types it in the RCC room."""
    from tests.helpers import say

    times: dict[str, float] = {}
    for text in LISTINGS:
        took = []
        for _ in range(runs):
            started = time.perf_counter()
            outcome = await say(app, NCPOC, text, room="!rcc")
            took.append(time.perf_counter() - started)
            if outcome.outcome != "accepted":
                raise RuntimeError(f"{text}: {outcome.outcome}")
        times[text] = statistics.median(took) * 1000
    return times


async def _app(config_path: Path) -> App:
    """The bot's core as the tests build it (tests/conftest.py): no homeserver, rooms a dict."""
    from bot.app import prepare
    from bot.faults import CrashPoints
    from commands.framework import BotIdentity
    from storage.db import Database
    from tests.helpers import Rooms

    config = load_config(config_path)
    db = Database(config.storage.url)
    await prepare(db, config, lambda: NOW)
    rooms = Rooms()
    app = App(
        config, db=db, clock=lambda: NOW, rooms={RoomKind.RCC: "!rcc"}, facts=rooms.facts,
        identity=BotIdentity("@bench:bench", "BENCH"), submit=lambda rows: None,
        faults=CrashPoints(), exists=rooms.exists, joined=rooms.joined,
    )  # fmt: skip
    app.test_rooms = rooms  # type: ignore[attr-defined]  # tests.helpers.say meets rooms here
    return app


async def measure(scale: int, runs: int, listed: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        app = await _app(config_file(Path(tmp)))
        started = time.perf_counter()
        await seed(app, scale, random.Random(scale))
        seeded = time.perf_counter() - started
        period = digest_period("2026-Q4", app.env)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            async with app.db.unit(write=False) as store:
                data = await build(
                    store,
                    period,
                    env=app.env,
                    config=app.sections,
                    committee="RCC",
                    now=NOW,
                    viewer=STEERING_ROOM,
                )
            times.append(time.perf_counter() - started)
        listing = await listings(app, runs) if listed else {}
        await app.db.close()
    return {
        "scale": scale,
        "status_updates": PER_DECADE["status"] * scale,
        "incidents": PER_DECADE["incidents"] * scale,
        "lessons": PER_DECADE["lessons"] * scale,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "seed_s": seeded,
        "incidents_in_digest": data["incidents"]["total"],
        "listings_ms": listing,
    }


async def main(scales: list[int], runs: int) -> None:
    results = [await measure(scale, runs, scale == max(scales)) for scale in scales]
    base = results[0]["median_s"]
    print(f"{'history':>8} {'status':>8} {'incidents':>9} {'median':>9} {'min':>9} {'growth':>7}")
    for r in results:
        print(
            f"{r['scale']:>7}x {r['status_updates']:>8} {r['incidents']:>9} "
            f"{r['median_s'] * 1000:>7.1f}ms {r['min_s'] * 1000:>7.1f}ms "
            f"{r['median_s'] / base:>6.2f}x"
        )
    largest = results[-1]
    print(f"digest at {largest['scale']}x: {largest['median_s']:.3f}s (goal {GOAL_DIGEST_S}s)")
    for text, ms in largest["listings_ms"].items():
        print(f"{text:36} {ms:7.1f}ms {'ok' if ms < GOAL_LISTING_MS else 'OVER'}")
    write_result("digest", {"machine": machine(), "runs": runs, "results": results})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,2,4,10")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main([int(s) for s in args.scales.split(",")], args.runs))
