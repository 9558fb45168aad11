"""Commands, listeners and jobs end alike (bot/units.py): audited in their unit, and their
messages, wakes and actions released only once it commits."""

from __future__ import annotations

from datetime import datetime

from commands.context import JobContext
from commands.framework import Job
from commands.values import CHROME, RoomKind
from tests.helpers import JM1, say

RCC = "!rcc:test.org"


async def job_audits(app, name):
    async with app.db.unit(write=False) as store:
        entries = reversed(await store.audit.recent(limit=100))
        return [(e.actor, e.outcome, e.detail) for e in entries if e.action == f"job {name}"]


def declare(app, name, handler) -> None:
    async def none(*_args) -> list[int]:
        return []

    app.jobs.jobs[name] = Job(name, handler, none, "a test's job")


async def test_a_job_that_speaks_is_audited_with_what_it_wrote(app):
    app.rooms[RoomKind.RCC] = RCC
    released: list[str] = []

    async def speaks(job: JobContext, key: int) -> datetime | None:
        await job.post("the hour has come", room_id=RCC, seal=CHROME)
        job.on_commit(lambda: released.append("after"))
        return None

    async def silent(job: JobContext, key: int) -> datetime | None:
        return None

    declare(app, "speaks", speaks)
    declare(app, "silent", silent)
    await app.jobs.run("speaks", 7)
    await app.jobs.run("silent", 8)
    assert await job_audits(app, "speaks") == [("rcc-bot", "done", "7: 1 message(s)")]
    assert await job_audits(app, "silent") == [], "a run that did nothing leaves no record"
    assert released == ["after"]


async def test_a_failing_job_rolls_back_and_is_audited_once_in_a_row(app):
    app.rooms[RoomKind.RCC] = RCC
    fail = [True, True, False, True]

    async def flaky(job: JobContext, key: int) -> datetime | None:
        await job.post("half a thought", room_id=RCC, seal=CHROME)
        if fail.pop(0):
            raise RuntimeError("broken")
        return None

    declare(app, "flaky", flaky)
    for _ in range(4):
        await app.jobs._runs("flaky", 3)  # the runner's loop for one record, as the timer calls it
    assert await job_audits(app, "flaky") == [
        ("rcc-bot", "failed", "3: RuntimeError"),
        ("rcc-bot", "done", "3: 1 message(s)"),
        ("rcc-bot", "failed", "3: RuntimeError"),
    ]
    async with app.db.unit(write=False) as store:
        bodies = [m.content for m in await store.outbox.pending()]
    assert sum("half a thought" in b for b in bodies) == 1, "a failed run wrote nothing"


async def test_a_command_is_audited_by_the_same_step(app):
    outcome = await say(app, JM1, "!whoami")
    async with app.db.unit(write=False) as store:
        (last,) = await store.audit.recent(limit=1)
    assert (last.actor, last.action, last.outcome) == (JM1, "whoami", outcome.outcome)
