"""A year of the committee's calendar with the clock moved: does the core stay flat?

The bot's core (as the tests build it: no homeserver, what it sends marked sent at once) runs a
committee of 20 countries with two NCPOCs each through one simulated year: a monthly reporting
deadline with its reminders, overdue notices and follow-ups; the scheduled Steering digest
each month (drafted for the chair, approved or left to expire); the quarterly CONSLE report
cycle; contacts' re-confirmations; and a week's work typed by the NCPOCs (status updates, an
incident, a lesson, listings). Every job runs when it asked to, exactly as the runner would
(its next time, and what a run wakes), with the clock set to that time. The process's
resident memory and the count of live Python objects are sampled each simulated week; growth
is measured from the end of the first month (caches and compiled statements fill there) to
the end of the year (goal within 5 MB, issue 39). Writes bench/results/year.json.

    .venv/bin/python -m bench.year [--days 365]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import heapq
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import machine, write_result
from bench.scene import rss_mb
from bot.app import App, prepare
from bot.config import load_config
from bot.faults import CrashPoints
from commands.framework import BotIdentity
from commands.reference import load_countries
from commands.values import RoomKind
from storage.db import Database
from tests.helpers import FakeClock, Postman, Rooms, say

START = datetime(2027, 1, 1, 4, tzinfo=UTC)
COUNTRIES = 20
WARM_DAYS = 31
GOAL_MB = 5.0
CHAIR = "@chair:bench"


def config_file(directory: Path, codes: list[str]) -> Path:
    roster = f'[[roster]]\nuser_id = "{CHAIR}"\nrole = "chair"\n'
    for code in codes:
        for n in (1, 2):
            roster += f'[[roster]]\nuser_id = "@{code.lower()}{n}:bench"\nrole = "ncpoc"\n'
            roster += f'country = "{code}"\n'
    path = directory / "year.toml"
    path.write_text(f"""
[matrix]
homeserver = "http://127.0.0.1:1"
user_id = "@bot:bench"
store_path = "{directory / "store"}"
[storage]
url = "sqlite+aiosqlite:///{directory / "year.db"}"
[committee]
timezone = "America/Port_of_Spain"
rcc_room = "!rcc"
steering_room = "!steering"
[digest]
schedule = "0 9 1 * *"
[reports]
consle = {{ schedule = "0 9 15 1,4,7,10 *", period = "quarter", room = "steering" }}
[[deadline]]
title = "Monthly status report"
due = "2027-01-20 17:00"
every = "month"
{roster}
""")
    return path


class Calendar:
    """The runner's timer, on the moved clock: each (job, record) at its next time."""

    def __init__(self, app: App, clock: FakeClock) -> None:
        self.app, self.clock = app, clock
        self.due: list[tuple[datetime, str, int]] = []
        self.runs: dict[str, int] = {}
        app.jobs.wake = self.wake  # type: ignore[method-assign]  # what a run wakes comes here

    def wake(self, name: str, key: int, at: datetime | None = None) -> None:
        heapq.heappush(self.due, (at or self.clock(), name, key))

    async def resume(self) -> None:
        """As the runner starts: every job kind's pending records."""
        async with self.app.db.unit(write=False) as store:
            for job in self.app.jobs.jobs.values():
                for key in await job.pending(store, self.app.sections, self.clock()):
                    self.wake(job.name, key)

    async def until(self, end: datetime) -> None:
        """Run everything due before `end`, each at its own time, in order."""
        done: set[tuple[datetime, str, int]] = set()
        while self.due and self.due[0][0] <= end:
            at, name, key = heapq.heappop(self.due)
            if (at, name, key) in done:
                continue  # woken twice for the same moment: the runner coalesces
            done.add((at, name, key))
            self.clock.current = max(self.clock.current, at)
            following = await self.app.jobs.run(name, key)
            self.runs[name] = self.runs.get(name, 0) + 1
            if following is not None:
                self.wake(name, key, max(following, self.clock() + timedelta(seconds=1)))
        self.clock.current = end


async def week_of_work(app: App, codes: list[str], week: int) -> None:
    """What the NCPOCs type in a week: half the countries report, one incident, one lesson."""
    for n, code in enumerate(codes):
        user = f"@{code.lower()}1:bench"
        if (n + week) % 2 == 0:
            await say(app, user, f"!status set legal.strategy in-progress week {week}")
        if n == week % len(codes):
            await say(app, user, f"!incident new severity=low tlp=green Phishing week {week}")
            await say(app, user, f"!lesson add area=technical Report phishing early, week {week}")
    await say(app, f"@{codes[0].lower()}1:bench", "!status")
    await say(app, f"@{codes[0].lower()}1:bench", "!incident list")


async def main(days: int) -> None:
    codes = [c.code for c in load_countries() if c.scored][:COUNTRIES]
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(config_file(Path(tmp), codes))
        clock = FakeClock(START)
        db = Database(config.storage.url)
        await prepare(db, config, clock)
        rooms = Rooms()
        pinned = {RoomKind.RCC: "!rcc", RoomKind.STEERING: "!steering"}
        app = App(
            config, db=db, clock=clock, rooms=pinned, facts=rooms.facts,
            identity=BotIdentity("@bot:bench", "BENCH"), submit=lambda rows: None,
            faults=CrashPoints(), exists=rooms.exists, joined=rooms.joined,
        )  # fmt: skip
        app.test_rooms = rooms  # type: ignore[attr-defined]  # tests.helpers.say meets rooms here
        app.jobs.started_at = START
        calendar, postman = Calendar(app, clock), Postman(app)
        await calendar.resume()
        samples: list[tuple[int, float, int]] = []
        started = time.perf_counter()
        for day in range(days + 1):
            if day % 7 == 0:
                await week_of_work(app, codes, day // 7)
                gc.collect()
                samples.append((day, rss_mb(os.getpid()), len(gc.get_objects())))
                print(f"day {day:3d}  {samples[-1][1]:6.1f} MB  {samples[-1][2]:8d} objects")
            await calendar.until(START + timedelta(days=day + 1))
            await postman.deliver_all()
        await db.close()
    after = [(mb, objects) for d, mb, objects in samples if d >= WARM_DAYS]
    growth = after[-1][0] - after[0][0]
    objects = after[-1][1] - after[0][1]
    print("job runs:", ", ".join(f"{name} {n}" for name, n in sorted(calendar.runs.items())))
    print(
        f"{days} days: {sum(calendar.runs.values())} job runs, {postman.sent} messages, "
        f"{time.perf_counter() - started:.0f}s; after the first month RSS {growth:+.1f} MB "
        f"(goal within {GOAL_MB:.0f} MB), live objects {objects:+d}"
    )
    write_result(
        "year",
        {
            "machine": machine(), "days": days, "job_runs": calendar.runs,
            "messages": postman.sent, "samples": samples, "growth_after_warm_mb": growth,
            "objects_after_warm": objects,
        },
    )  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    asyncio.run(main(args.days))
