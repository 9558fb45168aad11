"""Two sites on one PostgreSQL: an active node and a standby, one lease between them.

Both nodes run the same account, each on its own device (cross-signed by the bot's
self-signing key, copied to the standby's store) with its own store. The standby syncs for
its room keys alone (`bot.matrix.standby`) and tries the lease every `takeover_after / 6`;
the node that holds it builds the whole bot — handles, runs jobs, sends — and renews it every
`takeover_after / 3`.

Fencing: a node acts only while `acting()`: it holds the lease and, by its own monotonic
clock, less than two thirds of `takeover_after` have passed since the start of its last
successful renewal. The lease itself runs `takeover_after` from that renewal by the database's
clock, so a node that cannot renew (its database gone, its process stopped) stops sending
before anyone else may take over; every send asks. A node that has lost the lease never acts
again: its process ends (`LeaseLost`) and its supervisor starts it again, as a standby.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from storage import lease
from storage.db import Database
from storage.lease import Claim

log = logging.getLogger(__name__)

MARGIN = 2 / 3  # of takeover_after: how long a renewal lets this node act, by its own clock


class LeaseLost(Exception):
    """This node held the lease and no longer does: it must not act again."""


class LeaseKeeper:
    def __init__(
        self,
        db: Database,
        node: str,
        takeover_after: timedelta,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db, self.node, self.ttl = db, node, takeover_after
        self.seconds = takeover_after.total_seconds()
        self.monotonic = monotonic
        self.claim: Claim | None = None  # ours, as last renewed
        self.seen: Claim | None = None  # the lease as last read: the active node's, standing by
        self.since = datetime.now(UTC)  # when this node last changed role
        self.gained = asyncio.Event()
        self.lost = asyncio.Event()
        self._until = 0.0

    @property
    def role(self) -> str:
        return "active" if self.acting() else "standby"

    def acting(self) -> bool:
        """May this node act now: handle, run a job, send? Asked before every send."""
        return self.claim is not None and not self.lost.is_set() and self.monotonic() < self._until

    async def step(self) -> None:
        """One claim: the lease held, taken, or seen held by another; lost when it must be."""
        started = self.monotonic()
        claim = None
        try:
            claim = await lease.claim(self.db.engine, self.node, self.ttl)
        except Exception as exc:  # the database is away: ridden out until the margin is spent
            log.warning("the lease could not be renewed or read: %s", type(exc).__name__)
        if claim is not None:
            self.seen = claim
        if claim is not None and claim.ours:
            self._until = started + self.seconds * MARGIN
            if self.claim is None:
                self.since = claim.since
                self.gained.set()
                log.warning(
                    "node %s holds the lease (epoch %d%s): acting", self.node, claim.epoch,
                    f", taken from {claim.taken_from}" if claim.taken_from else "",
                )  # fmt: skip
            self.claim = claim
            return
        if self.claim is not None and (claim is not None or self.monotonic() >= self._until):
            self.lost.set()
            held_by = claim.holder if claim is not None else "unknown"
            log.error("node %s lost the lease (now %s): it stops acting", self.node, held_by)

    async def run(self) -> None:
        """Claim and renew until the lease is lost (raises `LeaseLost`) or cancelled."""
        while True:
            await self.step()
            if self.lost.is_set():
                raise LeaseLost(f"node {self.node} lost the lease; start it again as a standby")
            await asyncio.sleep(self.seconds / (3 if self.claim else 6))

    async def release(self) -> None:
        """A clean stop of the active node: the lease is freed for the standby at once."""
        if self.claim is None or self.lost.is_set():
            return
        self.claim = None
        try:
            await lease.release(self.db.engine, self.node)
        except Exception as exc:
            log.warning("the lease could not be released: %s", type(exc).__name__)
