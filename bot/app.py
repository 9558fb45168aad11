"""Builds the bot's parts from the config, once, in `main` (no module-level singletons)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.config import Config
from bot.dispatcher import Dispatcher, ReplySink
from bot.metrics import make_metrics
from bot.rendering import Renderer
from commands import all_routers
from commands.deadlines import apply_config_deadlines
from commands.framework import ParseEnv, Settings
from storage.db import Database

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class App:
    """The storage, reference data and dispatcher of one running bot."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock = system_clock,
        connect_args: dict[str, Any] | None = None,
        sink: ReplySink | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.db = Database(config.storage.url, connect_args=connect_args)
        self.env = ParseEnv(config.reference, config.committee.zone, clock)
        self.settings = Settings(
            prefix=config.committee.command_prefix,
            committee_name=config.committee.name,
            max_ncpocs_per_country=config.committee.max_ncpocs_per_country,
            bot_user_id=config.matrix.user_id,
            stale_after=config.status.stale_after,
            remind=config.deadlines.remind,
            followup_every=config.deadlines.followup_every,
            max_followups=config.deadlines.max_followups,
            default_time=config.deadlines.default_time,
            digest_schedule=config.digest.schedule,
            digest_period=config.digest.period,
            renotify_after=config.broadcast.renotify_after,
            max_renotify=config.broadcast.max_renotify,
        )
        self.renderer = Renderer(config.committee.zone)
        self.metrics = make_metrics(bool(config.health.listen))
        self.dispatcher = Dispatcher(
            routers=all_routers(),
            db=self.db,
            env=self.env,
            settings=self.settings,
            renderer=self.renderer,
            sink=sink,
        )
        self.dispatcher.metrics = self.metrics

    async def prepare(self, *, isolated: bool = False) -> None:
        """Migrate the schema and apply the config roster's changes since the last start."""
        applied = await self.db.upgrade(isolated=isolated)
        if applied:
            log.info("database migrated: %s", ", ".join(applied))
        now = self.clock()
        async with self.db.unit() as store:
            result = await store.roster.apply_seed(self.config.roster_seed, now=now)
            for verb, entries in (("added", result.added), ("removed", result.removed)):
                for e in entries:
                    detail = f"{verb} {e.user_id} as {e.role}" + (
                        f" ({e.country})" if e.country else ""
                    )
                    await store.audit.record(
                        actor="config",
                        action="roster seed",
                        outcome="accepted",
                        now=now,
                        detail=detail,
                    )
            deadlines = await apply_config_deadlines(
                store,
                self.config.deadline,
                zone=self.config.committee.zone,
                settings=self.settings,
                now=now,
            )
        for deadline in deadlines:
            log.info("deadline DL-%s created from the config", deadline.number)
        if result.added or result.removed:
            log.info(
                "roster from config: %d added, %d removed", len(result.added), len(result.removed)
            )

    async def close(self) -> None:
        await self.db.close()
