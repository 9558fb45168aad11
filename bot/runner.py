"""`rcc-bot run`: the composition root. Storage is made ready, the session opened, then every
part is built once, in order, with what it needs; the bot syncs until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from functools import partial
from pathlib import Path
from types import MappingProxyType

from nio import AsyncClient

from bot.app import App, Clock, prepare, system_clock
from bot.config import Config
from bot.faults import CrashPoints
from bot.files import render_file
from bot.matrix.bot import MatrixBot
from bot.matrix.committee import CommitteeRooms
from bot.matrix.devices import DeviceTracker
from bot.matrix.inbox import Inbox
from bot.matrix.profiles import ProfileWatch
from bot.matrix.rooms import RoomDirectory, joined, room_facts, user_exists
from bot.matrix.sender import Sender
from bot.matrix.session import SessionError, open_client
from bot.matrix.trust import CrossSigningTrust
from bot.outbox import Handoff
from commands.framework import BotIdentity, Signal
from commands.values import RoomKind
from storage.db import Database

log = logging.getLogger(__name__)

STOP_TIMEOUT = 15


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
        cls, config: Config, *, crash_at: str | None = None, clock: Clock = system_clock
    ) -> Runtime:
        """Migrate, seed, open the session (raises SessionError), build, start syncing."""
        faults = CrashPoints(crash_at)
        async with contextlib.AsyncExitStack() as stack:
            db = Database(config.storage.url)
            stack.push_async_callback(db.close)
            await prepare(db, config, clock, isolated=True)
            client = await open_client(config.matrix)
            stack.push_async_callback(_close, client)
            identity = await _cross_sign(config, client)
            app, bot, handoff = _build(config, db, client, identity, clock, faults)
            if config.smtp.enabled:
                from bot.mail import Mailer

                mailer = Mailer(
                    config.smtp,
                    db,
                    handoff,
                    clock=clock,
                    on_refused=partial(app.jobs.signal, Signal.REFUSED),
                    render_file=partial(render_file, app.renderer),
                )
                mailing = asyncio.create_task(mailer.run(), name="mail")
                stack.push_async_callback(_cancel, mailing)
            if config.health.listen:
                from bot.health import HealthServer

                health = HealthServer(config.health.listen, bot, db, app.metrics)
                await health.start()
                stack.push_async_callback(health.stop)
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
                with contextlib.suppress(asyncio.CancelledError):
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
    configured = {
        RoomKind.RCC: config.committee.rcc_room,
        RoomKind.STEERING: config.committee.steering_room,
    }
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
        metrics=app.metrics,
    )  # fmt: skip
    inbox = Inbox(
        client, app.handle, devices, rooms, trust, memory=ledger, people=ledger,
        unreadable=ledger, metrics=app.metrics, clock=clock,
        notice_after=config.bot.undecryptable_notice_after,
        record_deliveries=sender.flush_marks,
    )  # fmt: skip
    bot = MatrixBot(
        client, memory=ledger, invites=ledger, inbox=inbox, sender=sender, rooms=rooms,
        devices=devices, trust=trust, jobs=app.jobs, metrics=app.metrics, clock=clock,
        directs_at_start=app.directs_at_start, profiles=ProfileWatch(client, ledger),
    )  # fmt: skip
    return app, bot, handoff


async def _cross_sign(config: Config, client: AsyncClient) -> BotIdentity:
    from bot.matrix.crosssign import CrossSigner, CrossSigningError

    password = config.matrix.password
    signer = CrossSigner(
        client, Path(config.matrix.store_path), password.get_secret_value() if password else None
    )
    master = None
    try:
        master = await signer.ensure()
    except CrossSigningError as exc:
        log.warning("the bot's device is not cross-signed: %s", exc)
    return BotIdentity(client.user_id, client.device_id, master)


async def _cancel(task: asyncio.Task) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def _close(client: AsyncClient) -> None:
    with contextlib.suppress(Exception):
        await client.close()


async def run(config: Config, *, crash_at: str | None = None) -> int:
    """Run the bot until a stop signal; returns the process exit code."""
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
