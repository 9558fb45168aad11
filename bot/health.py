"""Health and metrics: an optional HTTP listener (loopback by default).

/healthz answers 200 only while the sync loop is live (its last sync succeeded and none is
stuck) and the database answers; /metrics is the Prometheus text format.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.metrics import Metrics

if TYPE_CHECKING:
    from bot.ha import LeaseKeeper
    from bot.matrix.bot import MatrixBot
    from storage.db import Database

log = logging.getLogger(__name__)

STUCK_AFTER = 90.0  # seconds: a sync request (30 s long poll) that takes longer is stuck


class PrometheusMetrics(Metrics):
    """The bot's counters in a Prometheus registry; one registry per bot, no global state."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.commands = Counter(
            "rcc_commands",
            "Commands handled, by name and outcome",
            ["command", "outcome"],
            registry=r,
        )
        self.latency = Histogram(
            "rcc_command_seconds",
            "Time from receiving a command to committing its effect",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
        self.sync_errors = Counter("rcc_sync_errors", "Failed sync requests", registry=r)
        self.jobs = Counter(
            "rcc_jobs", "Job runs, by job and outcome (done, again, failed)", ["job", "outcome"],
            registry=r,
        )  # fmt: skip
        self.job_latency = Histogram(
            "rcc_job_seconds", "Time a job's run for one record took, unit of work included",
            ["job"], buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 30), registry=r,
        )  # fmt: skip
        self.sent = Counter(
            "rcc_messages_sent", "Messages delivered, by kind", ["kind"], registry=r
        )
        self.failed = Counter(
            "rcc_messages_failed",
            "Messages the homeserver refused for good, by kind",
            ["kind"],
            registry=r,
        )
        self.reminders = Counter("rcc_reminders_sent", "Deadline notifications sent", registry=r)
        self.deliveries = Counter(
            "rcc_broadcast_deliveries", "Broadcast messages delivered", registry=r
        )
        self.acks = Counter("rcc_broadcast_acks", "Acknowledgements, by way", ["via"], registry=r)
        self.undecryptable = Counter(
            "rcc_undecryptable_events", "Encrypted events the bot could not read", registry=r
        )
        self.takeovers = Counter(
            "rcc_takeovers", "Times this node took the lease from the other site", registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


class HealthServer:
    def __init__(
        self,
        listen: str,
        bot: MatrixBot | None,
        db: Database,
        metrics: Metrics,
        *,
        ha: LeaseKeeper | None = None,
        keys: Any = None,
    ) -> None:
        """`bot`: the acting bot (None while a node of two sites stands by, syncing `keys`)."""
        host, _, port = listen.rpartition(":")
        self.host, self.port, self.bot = host or "127.0.0.1", int(port), bot
        self.db, self.metrics_source = db, metrics
        self.ha, self.keys = ha, keys
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        log.info("health and metrics on http://%s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def healthz(self, _request: web.Request) -> web.Response:
        problems = []
        if self.bot is None:
            if self.keys is not None and not self.keys.sync_ok:
                problems.append("the last sync failed")
        elif not self.bot.sync_ok:
            problems.append("the last sync failed")
        elif time.monotonic() - self.bot.sync_started > STUCK_AFTER:
            problems.append("the sync loop is stuck")
        try:
            async with asyncio.timeout(2):
                await self.db.ping()
        except Exception:  # any failure to answer means unhealthy
            problems.append("the database does not answer")
        site = self._site()
        if problems:
            return web.json_response({"ok": False, "problems": problems, **site}, status=503)
        return web.json_response({"ok": True, **site})

    def _site(self) -> dict[str, Any]:
        """Of two sites: this node, its role and since when, and which node acts."""
        if self.ha is None:
            return {}
        seen = self.ha.seen
        return {
            "node": self.ha.node,
            "role": self.ha.role,
            "since": self.ha.since.isoformat(),
            "active": seen.holder if seen is not None and seen.holder else None,
        }

    async def metrics(self, _request: web.Request) -> web.Response:
        return web.Response(
            body=self.metrics_source.render(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )
