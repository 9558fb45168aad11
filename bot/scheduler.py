"""APScheduler as a timer only: the database holds what must happen; jobs re-read it.

At start every active deadline's job runs once (catching up whatever fell due while the bot
was down) and then schedules itself for its next round. Job IDs are record IDs; the job store
is in memory and rebuilt from the database at each start (`misfire_grace_time=None`: a job
that fires late still runs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.logs import log_failure
from commands.broadcast_job import deliver_broadcast
from commands.digest import post_scheduled_digest
from commands.framework import Jobs
from commands.reminders import send_due_reminders

log = logging.getLogger(__name__)

RUNNERS = {
    "deadline": send_due_reminders,
    "digest": post_scheduled_digest,
    "broadcast": deliver_broadcast,
}
RETRY_FAILED = timedelta(minutes=1)


class Scheduler:
    def __init__(self, jobs: Jobs, *, after_run: Callable[[], None]) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler  # only where the bot runs

        self.jobs, self.after_run = jobs, after_run
        self._aps = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )
        self.runs = 0

    async def start(self) -> None:
        self._aps.start()
        async with self.jobs.db.unit(write=False) as store:
            deadlines = await store.deadlines.active()
        for deadline in deadlines:
            self.wake("deadline", deadline.id)
        if self.jobs.settings.digest_schedule:
            self.wake("digest", 0)

    def wake(self, kind: str, record_id: int, at: datetime | None = None) -> None:
        """Run a record's job at `at` (now by default), replacing any earlier plan."""
        self._aps.add_job(
            self._run,
            "date",
            run_date=at or datetime.now(UTC),
            args=[kind, record_id],
            id=f"{kind}-{record_id}",
            replace_existing=True,
        )

    def wake_all(self, wakes: list[tuple[str, int]]) -> None:
        for kind, record_id in wakes:
            self.wake(kind, record_id)

    async def _run(self, kind: str, record_id: int) -> None:
        self.runs += 1
        try:
            following = await RUNNERS[kind](self.jobs, record_id)
        except Exception as exc:  # a failing job must not stop the timer: retried in a minute
            log_failure(log, f"job {kind}-{record_id}", exc)
            following = datetime.now(UTC) + RETRY_FAILED
        self.after_run()
        if following is not None:
            # `following` is on the jobs' clock, which a test may have moved; the timer runs
            # on real time, so it waits for the same interval.
            wait = max(following - self.jobs.env.now(), timedelta(0))
            self.wake(kind, record_id, at=datetime.now(UTC) + wait)

    def shutdown(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)
