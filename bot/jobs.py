"""Runs the routers' jobs, as the dispatcher runs their commands.

Each run is one unit of work for one record, with a `JobContext`: what it posts is written to
the outbox in that unit and handed to the sender once it commits. The database says what is
due: at start every job kind's `pending` records are run (whatever fell due or was left
unfinished while the bot was down), and each run returns when to look again. APScheduler is
the timer only; its store is in memory. Runs of one record never overlap: a wake that comes
during a run makes it run once more afterwards.

A run ends as a command does (`bot/units.py`): a run that wrote messages, or says what it did
(`audit_detail`), is audited in its unit; a run that fails is audited once, when it starts
failing, and retried.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta

from bot.faults import CrashPoints
from bot.logs import log_failure
from bot.metrics import Metrics
from bot.outbox import OutboxWriter
from bot.units import audit, settle
from commands.audience import Audience, audience_for
from commands.context import JobContext, Write, WriteEmail
from commands.framework import NEVER, FileSpec, Job, ParseEnv, Reply, Signal, View
from commands.sections import Sections
from commands.values import Joined, RoomFacts, RoomKind, Seal, unknown_membership
from storage.db import Database
from storage.outbox import OutboxMessage
from storage.stores import Stores

log = logging.getLogger(__name__)

RETRY_FAILED = timedelta(minutes=1)
ACTOR = "rcc-bot"  # who a job's audit record names
Key = tuple[str, int]


class JobRunner:
    def __init__(
        self,
        jobs: Iterable[Job],
        *,
        db: Database,
        env: ParseEnv,
        config: Sections,
        outbox: OutboxWriter,
        rooms: Mapping[RoomKind, str],
        facts: Callable[[str], RoomFacts | None],
        submit: Callable[[list[OutboxMessage]], None],
        faults: CrashPoints,
        joined: Joined = unknown_membership,
        metrics: Metrics | None = None,
    ) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler  # where jobs run only

        self.jobs: dict[str, Job] = {}
        for job in jobs:
            if job.name in self.jobs:
                raise ValueError(f"job {job.name!r} declared twice")
            self.jobs[job.name] = job
        self.db, self.env, self.config = db, env, config
        self.outbox, self.rooms, self.submit, self.faults = outbox, rooms, submit, faults
        self.facts, self.joined = facts, joined
        self.metrics = metrics or Metrics()
        self._timer = AsyncIOScheduler(
            timezone=UTC, job_defaults={"misfire_grace_time": None, "coalesce": True}
        )
        self._running: dict[Key, asyncio.Task] = {}
        self._again: set[Key] = set()
        self._early: set[Key] = set()  # woken before start: run at start
        self._failing: set[Key] = set()  # failed at their last run (audited once)
        self.started_at = NEVER
        self.runs = 0

    async def start(self, started_at: datetime) -> None:
        """Rebuild every job kind from the database and run what is pending."""
        self.started_at = started_at
        self._timer.start()
        pending = set(self._early)
        async with self.db.unit(write=False) as store:
            for job in self.jobs.values():
                keys = await job.pending(store, self.config, self.env.now())
                pending.update((job.name, key) for key in keys)
        self._early.clear()
        log.info("jobs resumed: %d record(s) to look at", len(pending))
        for key in sorted(pending):
            self._kick(*key)

    def signal(self, signal: Signal) -> None:
        """Wake every job that listens for this signal of the core (record 0)."""
        for job in self.jobs.values():
            if signal in job.on:
                self.wake(job.name, 0)

    def wake(self, name: str, key: int, at: datetime | None = None) -> None:
        """Run a record's job at `at` (now by default), replacing any later plan for it."""
        if name not in self.jobs:
            raise KeyError(f"no job named {name!r}")
        if self.started_at is NEVER:
            self._early.add((name, key))
        elif at is None:
            self._kick(name, key)
        else:
            self._plan(name, key, at)

    async def run(self, name: str, key: int) -> datetime | None:
        """Run one record's job now, in one unit of work; returns when to run it again."""
        job = self.jobs[name]
        written: list[OutboxMessage] = []
        write, write_email = self._writers(written)
        self.runs += 1
        async with self.db.unit() as store:

            async def audience_of(room_id: str) -> Audience:
                return await audience_for(store, self.facts(room_id), room_id)

            ctx = JobContext(
                store=store,
                env=self.env,
                config=self.config,
                now=self.env.now(),
                rooms=self.rooms,
                started_at=self.started_at,
                write=write,
                audience_of=audience_of,
                write_email=write_email,
                joined=self.joined,
            )
            following = await job.handler(ctx, key)
            if written or ctx.audit_detail:
                ctx.audit_detail = ctx.audit_detail or f"{key}: {len(written)} message(s)"
                outcome = "done" if following is None else "again"
                await audit(ctx, actor=ACTOR, action=f"job {name}", outcome=outcome)
            self.faults.hit("before-job-commit", name)
        self.faults.hit("after-job-commit", name)
        settle(ctx, written, submit=self.submit, wake=self.wake, metrics=self.metrics)
        return following

    def _writers(self, written: list[OutboxMessage]) -> tuple[Write, WriteEmail]:
        """How a job's posts and emails reach the outbox, in its unit of work; what they
        wrote is collected in `written`, handed to the senders once the unit commits."""

        async def write(store: Stores, reply: Reply) -> OutboxMessage:
            rows = await self.outbox.write(
                store, await self.outbox.render(store, reply), flush=False
            )
            written.extend(rows)
            return rows[0]

        async def write_email(
            store: Stores,
            to: str,
            subject: str,
            body: View,
            ref: str | None,
            report_to: tuple[str, ...],
            seal: Seal,
            files: tuple[FileSpec, ...] = (),
        ) -> OutboxMessage:
            row = await self.outbox.email(
                store, to=to, subject=subject, view=body, ref=ref, report_to=report_to,
                seal=seal, files=files,
            )  # fmt: skip
            written.append(row)
            return row

        return write, write_email

    def _kick(self, name: str, key: int) -> None:
        running = self._running.get((name, key))
        if running is not None and not running.done():
            self._again.add((name, key))
            return
        task = asyncio.create_task(self._runs(name, key), name=f"job {name}:{key}")
        self._running[(name, key)] = task

    async def _runs(self, name: str, key: int) -> None:
        while True:
            started = time.monotonic()
            try:
                following = await self.run(name, key)
                outcome = "done" if following is None else "again"
                self._failing.discard((name, key))
            except Exception as exc:  # a failing job must not stop the others: retried later
                log_failure(log, f"job {name}:{key}", exc)
                following, outcome = self.env.now() + RETRY_FAILED, "failed"
                await self._audit_failure(name, key, exc)
            self.metrics.job_ran(name, outcome, time.monotonic() - started)
            if (name, key) not in self._again:
                break
            self._again.discard((name, key))
        if following is not None:
            self._plan(name, key, following)

    async def _audit_failure(self, name: str, key: int, exc: Exception) -> None:
        """A run that failed, audited the first time in a row (its unit rolled back); the
        error's kind only, as for commands. The database may be what fails: then the log
        says it."""
        if (name, key) in self._failing:
            return
        try:
            async with self.db.unit() as store:
                await store.audit.record(
                    actor=ACTOR, action=f"job {name}", outcome="failed", now=self.env.now(),
                    detail=f"{key}: {type(exc).__name__}",
                )  # fmt: skip
        except Exception as again:
            log_failure(log, f"auditing the failure of job {name}:{key}", again)
            return
        self._failing.add((name, key))

    def _plan(self, name: str, key: int, at: datetime) -> None:
        # `at` is on the jobs' clock, which a test may have moved; the timer runs on real
        # time, so it waits for the same interval.
        wait = max(at - self.env.now(), timedelta(0))
        self._timer.add_job(
            self._fire,
            "date",
            run_date=datetime.now(UTC) + wait,
            args=[name, key],
            id=f"{name}:{key}",
            replace_existing=True,
        )

    async def _fire(self, name: str, key: int) -> None:
        self._kick(name, key)

    async def stop(self) -> None:
        if self._timer.running:
            self._timer.shutdown(wait=False)
        tasks = [t for t in self._running.values() if not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
