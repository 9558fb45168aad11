"""The bot's core, built once from the config and what the Matrix side knows, in order:
storage, reference data and settings, rendering, metrics, the outbox, the jobs and the
dispatcher. Every part gets what it needs at construction; nothing is wired afterwards.

`bot.runner.Runtime` builds it after logging in (the bot's identity and rooms come from
Matrix); tests build it with a plain dict of rooms and their own identity.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from bot.config import Config
from bot.dispatcher import Dispatcher, Facts
from bot.faults import CrashPoints
from bot.jobs import JobRunner
from bot.ledger import Ledger
from bot.logs import Quota
from bot.matrix.ports import Admission, Queued
from bot.metrics import make_metrics
from bot.outbox import OutboxWriter
from bot.rendering import Renderer
from bot.senders import Senders
from commands import all_routers, i18n
from commands.audience import admits, audience_for
from commands.catalogue import in_force
from commands.framework import BotIdentity, Input, ParseEnv, Signal
from commands.values import (
    Clearance,
    Exists,
    Joined,
    RoomKind,
    Seal,
    unknown_existence,
    unknown_membership,
)
from storage.db import Database
from storage.lease import Claim
from storage.lists import unpack
from storage.outbox import OutboxMessage
from storage.schema import HEAD
from storage.stores import Stores

log = logging.getLogger(__name__)

COMPILED = "templates"  # in [matrix] store_path: the templates, compiled (bot.rendering)

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def _private(db: Database) -> None:
    """The database's files for the bot's user alone."""
    for folder in db.make_private():
        log.warning(
            "%s can be listed by other users; keep the database in a private folder", folder
        )


async def read_only(db: Database, config: Config) -> bool:
    """Ready for a verb that only reads, changing nothing: the schema must be current (False:
    it is not), and the catalogue in force is read (the file's, where none is stored)."""
    if await db.revision() != HEAD:
        return False
    _private(db)  # permissions, not data
    async with db.unit(write=False) as store:
        reference = config.reference
        reference.catalogue = await in_force(
            store, reference.catalogue, system_clock(), read_only=True
        )
    return True


async def prepare(db: Database, config: Config, clock: Clock, *, isolated: bool = False) -> None:
    """Migrate the schema and apply the config's roster and deadlines changed since the last
    start (before anything else touches the database); one node at a time."""
    async with db.exclusive("prepare"):
        await _prepare(db, config, clock, isolated=isolated)


async def _prepare(db: Database, config: Config, clock: Clock, *, isolated: bool) -> None:
    applied = await db.upgrade(isolated=isolated)
    if applied:
        log.info("database migrated: %s", ", ".join(applied))
    _private(db)
    now = clock()
    async with db.unit() as store:
        result = await store.roster.apply_seed(config.roster_seed, now=now)
        for verb, entries in (("added", result.added), ("removed", result.removed)):
            for e in entries:
                where = f" ({e.country})" if e.country else ""
                await store.audit.record(
                    actor="config",
                    action="roster seed",
                    outcome="accepted",
                    now=now,
                    detail=f"{verb} {e.user_id} as {e.role}{where}",
                )
        reference = config.reference
        reference.catalogue = await in_force(store, reference.catalogue, now)
        sections = config.sections
        for router in all_routers():
            for hook in router.prepares:
                await hook(store, sections, now)
    if result.added or result.removed:
        added, removed = len(result.added), len(result.removed)
        log.info("roster from config: %d added, %d removed", added, removed)


class App:
    """The storage, reference data, jobs and dispatcher of one running bot."""

    def __init__(
        self,
        config: Config,
        *,
        db: Database,
        clock: Clock,
        rooms: Mapping[RoomKind, str],
        facts: Facts,
        identity: BotIdentity,
        submit: Callable[[list[OutboxMessage]], None],
        faults: CrashPoints,
        exists: Exists = unknown_existence,
        joined: Joined = unknown_membership,
    ) -> None:
        self.config, self.db, self.clock, self.rooms, self.facts = config, db, clock, rooms, facts
        self._rate_limits = Quota(1, 3600)
        self.env = ParseEnv(config.reference, config.committee.zone, clock)
        self.sections = config.sections
        self.renderer = Renderer(
            config.committee.zone, config.templates_dir, Path(config.matrix.store_path) / COMPILED
        )
        self.metrics = make_metrics(bool(config.health.listen))
        language = config.committee.language

        async def speaks(store: Stores, user: str | None, room: str | None) -> str:
            return await i18n.language_of(store, language, user=user, room=room)

        self.outbox = OutboxWriter(self.renderer, clock, speaks, i18n.zone_of)
        routers = all_routers()
        self.jobs = JobRunner(
            [job for router in routers for job in router.jobs],
            db=db, env=self.env, config=self.sections, outbox=self.outbox, rooms=rooms,
            facts=facts, submit=submit, faults=faults, joined=joined, metrics=self.metrics,
        )  # fmt: skip
        self.senders = Senders(
            db, exclude_insecure=config.security.exclude_insecure_devices,
            signal=self.jobs.signal, vouched=config.pinned_identities, clock=clock,
        )  # fmt: skip
        self.dispatcher = Dispatcher(
            routers=routers, db=db, env=self.env, config=self.sections, outbox=self.outbox,
            submit=submit, wake=self.jobs.wake, rooms=rooms, facts=facts, identity=identity,
            senders=self.senders, exists=exists, joined=joined, metrics=self.metrics,
            faults=faults,
        )  # fmt: skip
        # The Matrix side's ports, kept in storage: what its facts mean is decided there.
        self.ledger = Ledger(
            db, clock=clock, outbox=self.outbox, submit=submit, zone=config.committee.zone,
            on_notice=partial(self.jobs.signal, Signal.NOTICE),
        )  # fmt: skip

    async def handle(self, said: Input) -> bool:
        """An input from the Matrix side; whether it was new (not one handled before)."""
        outcome = await self.dispatcher.handle(said)
        return outcome is not None and not outcome.duplicate

    async def directs_at_start(self) -> list[str]:
        """Whom the families want a direct chat with from the start."""
        found: set[str] = set()
        async with self.db.unit(write=False) as store:
            for router in all_routers():
                for finder in router.directs:
                    found.update(await finder(store, self.sections))
        return sorted(found)

    async def rate_limited(self, wait: float) -> None:
        """The homeserver rate-limits the bot's messages: at most once an hour, the log and
        the chair are told, with the Synapse admin call that exempts the bot."""
        if not self._rate_limits.allow():
            return
        user, homeserver = self.config.matrix.user_id, self.config.matrix.homeserver
        call = (
            f"curl -X POST -H 'Authorization: Bearer <admin access token>' "
            f'-d \'{{"messages_per_second": 0, "burst_count": 0}}\' '
            f"{homeserver.rstrip('/')}/_synapse/admin/v1/users/{user}/override_ratelimit"
        )
        log.warning(
            "the homeserver rate-limits the bot (waiting %.1fs); to exempt it: %s", wait, call
        )
        async with self.db.unit() as store:
            data = {"kind": "bot", "user": user, "wait": round(wait, 1), "call": call}
            await store.notices.add("rate_limited", data, now=self.clock())
        self.jobs.signal(Signal.NOTICE)

    async def taken_over(self, node: str, claim: Claim) -> None:
        """This node took the lease from another: counted, and the chair is told."""
        if not claim.taken_from or claim.taken_from == node:
            return
        self.metrics.takeovers.inc()
        async with self.db.unit() as store:
            data = {"kind": "bot", "node": node, "previous": claim.taken_from}
            await store.notices.add("taken_over", data, now=self.clock())
        self.jobs.signal(Signal.NOTICE)

    async def admits(self, row: Queued) -> Admission:
        """The gate, at send time: a message's seal against its room's readers now (their
        roster roles read now). A person's DM with someone else in it: a fresh DM instead."""
        if row.room_id is None:
            return Admission.REFUSE
        async with self.db.unit(write=False) as store:
            audience = await audience_for(store, self.facts(row.room_id), row.room_id)
        bound = frozenset(unpack(row.bound_to)) if row.bound_to is not None else None
        seal = Seal(row.label, Clearance(row.needs), bound)
        if admits(seal, audience, only=row.to_user):
            return Admission.SEND
        others = (audience.members or frozenset()) - {row.to_user}
        if row.to_user is not None and row.to_user in (audience.members or ()) and others:
            return Admission.FRESH_DM
        return Admission.REFUSE

    async def dm_replaced(self, user: str, spoiled: str) -> None:
        """A person's DM had someone else let in: they are told, once, in the fresh one."""
        async with self.db.unit() as store:
            data = {"kind": "direct", "user": user, "spoiled": spoiled, "to": "person"}
            await store.notices.add("dm_replaced", data, now=self.clock())
        self.jobs.signal(Signal.NOTICE)
