"""`rcc-bot run`: the composition root. Storage is made ready, the session opened, then every
part is built once, in order, with what it needs; the bot syncs until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from nio import AsyncClient

from bot.app import App, Clock, prepare, system_clock
from bot.config import Config
from bot.faults import CrashPoints
from bot.files import render_file
from bot.ha import LeaseKeeper, LeaseLost
from bot.matrix.bot import MatrixBot
from bot.matrix.committee import CommitteeRooms
from bot.matrix.devices import DeviceTracker
from bot.matrix.fence import Fenced, fence
from bot.matrix.inbox import Inbox
from bot.matrix.profiles import ProfileWatch
from bot.matrix.replay import Ciphertexts
from bot.matrix.rooms import RoomDirectory, joined, room_facts, user_exists
from bot.matrix.sender import Sender
from bot.matrix.session import SessionError, open_client
from bot.matrix.trust import CrossSigningTrust
from bot.outbox import Handoff
from commands.framework import BotIdentity, Signal
from commands.values import RoomKind
from storage.db import Database

if TYPE_CHECKING:
    from bot.health import HealthServer

log = logging.getLogger(__name__)

STOP_TIMEOUT = 15
LOST_LEASE = 75  # the exit code of a node that lost the lease: start it again, as a standby
STANDBY_TOKEN = "standby_token:{node}"


@dataclass
class Site:
    """One node of two sites, open before it acts: its database, session and lease."""

    db: Database
    client: AsyncClient
    identity: BotIdentity
    keeper: LeaseKeeper


class Runtime:
    """One running bot, built whole by `Runtime.open`: its storage, session, core and sync."""

    def __init__(
        self,
        *,
        config: Config,
        db: Database,
        client: AsyncClient,
        app: App,
        bot: MatrixBot,
        closing: contextlib.AsyncExitStack,
    ) -> None:
        self.config, self.db, self.client, self.app, self.bot = config, db, client, app, bot
        self._closing = closing
        self.task = asyncio.create_task(bot.run(), name="matrix-bot")

    @classmethod
    async def open(
        cls,
        config: Config,
        *,
        crash_at: str | None = None,
        clock: Clock = system_clock,
        site: Site | None = None,
    ) -> Runtime:
        """Migrate, seed, open the session (raises SessionError), build, start syncing. A
        node of two sites (`site`) comes with its database, session and lease already open."""
        faults = CrashPoints(crash_at)
        async with contextlib.AsyncExitStack() as stack:
            db = site.db if site else Database(config.storage.url)
            stack.push_async_callback(db.close)
            await prepare(db, config, clock, isolated=True)
            client = site.client if site else await open_client(config.matrix)
            stack.push_async_callback(_close, client)
            identity = site.identity if site else await _cross_sign(config, client)
            keeper = site.keeper if site else None
            app, bot, handoff = _build(config, db, client, identity, clock, faults, keeper)
            if config.smtp.enabled:
                from bot.mail import Mailer

                mailer = Mailer(
                    config.smtp,
                    db,
                    handoff,
                    clock=clock,
                    on_refused=partial(app.jobs.signal, Signal.REFUSED),
                    render_file=partial(render_file, app.renderer),
                    acting=keeper.acting if keeper else None,
                )
                mailing = asyncio.create_task(mailer.run(), name="mail")
                stack.push_async_callback(_cancel, mailing)
            if config.health.listen and site is None:
                from bot.health import HealthServer

                health = HealthServer(config.health.listen, bot, db, app.metrics)
                await health.start()
                stack.push_async_callback(health.stop)
            if keeper is not None and keeper.claim is not None:
                await app.taken_over(keeper.node, keeper.claim)
            runtime = cls(
                config=config, db=db, client=client, app=app, bot=bot, closing=stack.pop_all()
            )
        log.info("running as %s, device %s", client.user_id, client.device_id)
        return runtime

    async def wait(self) -> None:
        await self.task

    async def stop(self) -> None:
        self.task.cancel()
        try:
            async with asyncio.timeout(STOP_TIMEOUT):
                with contextlib.suppress(asyncio.CancelledError, Fenced):
                    await self.task
        except TimeoutError:
            log.error("the sync task did not stop within %ss", STOP_TIMEOUT)
        await self._closing.aclose()


def _build(
    config: Config,
    db: Database,
    client: AsyncClient,
    identity: BotIdentity,
    clock: Clock,
    faults: CrashPoints,
    keeper: LeaseKeeper | None = None,
) -> tuple[App, MatrixBot, Handoff]:
    """Every part, once, in order; each gets what it needs at construction."""
    handoff = Handoff()
    # The committee's rooms, pinned by the Matrix side alone; the core reads them through a
    # read-only view.
    pinned: dict[RoomKind, str] = {}
    app = App(
        config, db=db, clock=clock, rooms=MappingProxyType(pinned),
        facts=partial(room_facts, client), identity=identity, submit=handoff.submit, faults=faults,
        exists=partial(user_exists, client), joined=partial(joined, client),
    )  # fmt: skip
    ledger = app.ledger
    configured = {RoomKind.RCC: config.committee.rcc_room}
    configured[RoomKind.STEERING] = config.committee.steering_room
    committee = CommitteeRooms(client, ledger, pinned, configured=configured)
    rooms = RoomDirectory(
        client, committee, memory=ledger, people=ledger, on_replaced=app.dm_replaced
    )
    pins = app.senders.pins  # the identities pinned for members: room keys follow them
    trust = CrossSigningTrust(client, pins=pins.get, first_sight=pins.first_sight)
    exclude = config.security.exclude_insecure_devices
    devices = DeviceTracker(client, trust if exclude else None)
    sender = Sender(
        client, ledger, devices, handoff, direct_room=rooms.direct_room,
        fresh_direct=rooms.fresh_direct, admits=app.admits,
        on_refused=partial(app.jobs.signal, Signal.REFUSED), on_rate_limited=app.rate_limited,
        clock=clock, faults=faults, render_file=partial(render_file, app.renderer),
        metrics=app.metrics, acting=keeper.acting if keeper else None,
    )  # fmt: skip
    inbox = Inbox(
        client, app.handle, devices, rooms, trust, memory=ledger, people=ledger,
        unreadable=ledger, metrics=app.metrics, clock=clock, record_deliveries=sender.flush_marks,
        notice_after=config.bot.undecryptable_notice_after,
        ciphertext_of=Ciphertexts(client.olm).take,
    )  # fmt: skip
    bot = MatrixBot(
        client, memory=ledger, invites=ledger, inbox=inbox, sender=sender, rooms=rooms,
        devices=devices, trust=trust, jobs=app.jobs, metrics=app.metrics, clock=clock,
        directs_at_start=app.directs_at_start, profiles=ProfileWatch(client, ledger),
        acting=keeper.acting if keeper else None,
    )  # fmt: skip
    return app, bot, handoff


async def _cross_sign(config: Config, client: AsyncClient) -> BotIdentity:
    from bot.matrix.crosssign import CrossSigner, CrossSigningError

    password = config.matrix.password
    signer = CrossSigner(
        client,
        Path(config.matrix.store_path),
        password.get_secret_value() if password else None,
        replace=not config.ha.enabled,
    )
    master = None
    try:
        master = await signer.ensure()
    except CrossSigningError as exc:
        log.warning("the bot's device is not cross-signed: %s", exc)
    node = (config.ha.node or client.device_id) if config.ha.enabled else None
    return BotIdentity(client.user_id, client.device_id, master, node=node)


async def _cancel(task: asyncio.Task) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def _close(client: AsyncClient) -> None:
    with contextlib.suppress(Exception):
        await client.close()


async def run(config: Config, *, crash_at: str | None = None) -> int:
    """Run the bot until a stop signal; returns the process exit code."""
    if config.ha.enabled:
        return await run_site(config, crash_at=crash_at)
    try:
        runtime = await Runtime.open(config, crash_at=crash_at)
    except SessionError as exc:
        log.error("%s", exc)
        return 1
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, runtime.task.cancel)
    code = 0
    try:
        await runtime.wait()
    except asyncio.CancelledError:
        log.info("stopping")
    except SessionError as exc:
        log.error("%s", exc)
        code = 1
    finally:
        await runtime.stop()
    return code


async def run_site(config: Config, *, crash_at: str | None = None) -> int:
    """One node of two sites: stand by, syncing for keys, until it holds the lease; then the
    whole bot, until a stop signal or the lease is lost (exit code 75: start it again)."""
    db = Database(config.storage.url, connect_args=_site_connections(config))
    try:
        await prepare(db, config, system_clock, isolated=True)
        client = await open_client(config.matrix)
    except SessionError as exc:
        log.error("%s", exc)
        await db.close()
        return 1
    node = SiteNode(config, db, client, await _cross_sign(config, client))
    try:
        return await node.run(crash_at)
    finally:
        await node.close()


class SiteNode:
    """A node of two sites, from standing by to acting, and its stop."""

    def __init__(
        self, config: Config, db: Database, client: AsyncClient, identity: BotIdentity
    ) -> None:
        from bot.matrix.standby import KeysOnly

        self.config, self.db, self.client, self.identity = config, db, client, identity
        self.name = identity.node or client.device_id
        self.keeper = LeaseKeeper(db, self.name, config.ha.takeover_after)
        fence(client, self.keeper.acting)  # no write to a room unless this node acts
        token = STANDBY_TOKEN.format(node=self.name)
        self.keys = KeysOnly(
            client,
            DeviceTracker(client),
            recall=partial(_recall, db, token),
            keep=partial(_keep, db, token),
        )
        self.health: HealthServer | None = None
        self.runtime: Runtime | None = None
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.code = 0

    async def run(self, crash_at: str | None) -> int:
        self.health = await _health(self.config, self.db, self.keeper, self.keys)
        lease = self._task(self.keeper.run(), "lease")
        keys = self._task(self.keys.run(), "standby-sync")
        gained = self._task(self.keeper.gained.wait(), "gained")
        stopping = self._task(self.stop.wait(), "stop")
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        log.info("node %s standing by (device %s)", self.name, self.client.device_id)
        await asyncio.wait([gained, lease, stopping], return_when=asyncio.FIRST_COMPLETED)
        if self.keeper.gained.is_set() and not self.stop.is_set():
            await _cancel(keys)
            runtime = await self._act(crash_at)
            acting = [runtime.task, lease, stopping]
            await asyncio.wait(acting, return_when=asyncio.FIRST_COMPLETED)
        self.code = _ended(lease, self.runtime)
        return self.code

    async def _act(self, crash_at: str | None) -> Runtime:
        await self.keys.drain()  # the room keys sent to this device until now
        # nio skips a sync response whose position it has already seen; the bot's first
        # sync, from the other node's position, may end where the standby's did.
        self.client.next_batch = None
        site = Site(self.db, self.client, self.identity, self.keeper)
        self.runtime = await Runtime.open(self.config, crash_at=crash_at, site=site)
        if self.health is not None:
            self.health.bot = self.runtime.bot
            self.health.metrics_source = self.runtime.app.metrics
        return self.runtime

    def _task(self, work: Any, name: str) -> asyncio.Task:
        self.tasks.append(asyncio.create_task(work, name=name))
        return self.tasks[-1]

    async def close(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()  # nothing more is sent, then the lease is freed
        if self.code != LOST_LEASE:
            await self.keeper.release()
        for task in self.tasks:
            await _cancel(task)
        if self.health is not None:
            await self.health.stop()
        await _close(self.client)
        await self.db.close()


def _site_connections(config: Config) -> dict:
    """PostgreSQL ends what a frozen or cut-off node left open: a transaction idle for a
    minute (twice takeover_after if longer: a job's unit may render a picture), and a
    connection whose host stopped answering (TCP keepalives), so its row locks do not
    hold the node that took over."""
    idle = max(2 * config.ha.takeover_after.total_seconds(), 60)
    return {
        "server_settings": {
            "idle_in_transaction_session_timeout": str(int(idle * 1000)),
            "tcp_keepalives_idle": "10",
            "tcp_keepalives_interval": "5",
            "tcp_keepalives_count": "3",
        }
    }


def _ended(lease: asyncio.Task, runtime: Runtime | None) -> int:
    if lease.done() and not lease.cancelled() and isinstance(lease.exception(), LeaseLost):
        log.error("%s", lease.exception())
        return LOST_LEASE
    if runtime is not None and runtime.task.done() and not runtime.task.cancelled():
        failure = runtime.task.exception()
        if isinstance(failure, Fenced):
            log.error("%s; start it again as a standby", failure)
            return LOST_LEASE
        if isinstance(failure, SessionError):
            log.error("%s", failure)
            return 1
    return 0


async def _health(
    config: Config, db: Database, keeper: LeaseKeeper, keys: object
) -> HealthServer | None:
    if not config.health.listen:
        return None
    from bot.health import HealthServer, PrometheusMetrics

    health = HealthServer(
        config.health.listen, None, db, PrometheusMetrics(), ha=keeper, keys=keys
    )
    await health.start()
    return health


async def _recall(db: Database, key: str) -> str | None:
    async with db.unit(write=False) as store:
        return await store.state.get(key)


async def _keep(db: Database, key: str, value: str) -> None:
    async with db.unit() as store:
        await store.state.set(key, value, now=system_clock())
