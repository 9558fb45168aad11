"""`rcc-bot run`: storage ready, session open, sync until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bot.app import App, Clock, system_clock
from bot.config import Config
from bot.dispatcher import Incoming, Outgoing
from bot.faults import CrashPoints
from bot.matrix.content import enqueue
from storage.stores import Stores

log = logging.getLogger(__name__)

STOP_TIMEOUT = 15


def outbox_sink(clock: Clock):
    """Replies go into the outbox inside the command's own transaction."""

    async def sink(store: Stores, replies: list[Outgoing], msg: Incoming) -> list:
        rows = []
        for reply in replies:
            # A reply mentions the person it answers, as the Matrix spec recommends.
            sender = [msg.sender] if reply.in_reply_to is not None else []
            rows += await enqueue(store, reply, now=clock(), also_mention=sender)
        return rows

    return sink


class Runtime:
    """One running bot: its app, its Matrix client and the sync task."""

    def __init__(
        self, config: Config, *, crash_at: str | None = None, clock: Clock = system_clock
    ) -> None:
        self.config = config
        self.faults = CrashPoints(crash_at)
        self.app = App(config, clock=clock)
        self.app.dispatcher.sink = outbox_sink(clock)
        self.app.dispatcher.before_commit = lambda: self.faults.hit("before-commit")
        self.client = None
        self.bot = None
        self.task: asyncio.Task | None = None
        self.health = None

    async def start(self) -> None:
        """Migrate, seed, open the session (raises SessionError) and start syncing."""
        from bot.matrix.bot import MatrixBot  # the Matrix stack is imported only to run
        from bot.matrix.session import open_client

        await self.app.prepare(isolated=True)
        try:
            self.client = await open_client(self.config.matrix)
        except BaseException:
            await self.app.close()
            raise
        await self._cross_sign()
        self.bot = MatrixBot(self.app, self.client, faults=self.faults)
        self.task = asyncio.create_task(self.bot.run(), name="matrix-bot")
        if self.config.health.listen:
            from bot.health import HealthServer

            self.health = HealthServer(self.config.health.listen, self.bot)
            await self.health.start()
        log.info("running as %s, device %s", self.client.user_id, self.client.device_id)

    async def _cross_sign(self) -> None:
        from pathlib import Path

        from bot.matrix.crosssign import CrossSigner, CrossSigningError

        info = self.app.dispatcher.bot_info
        info.update(user_id=self.client.user_id, device_id=self.client.device_id)
        password = self.config.matrix.password
        signer = CrossSigner(
            self.client,
            Path(self.config.matrix.store_path),
            password.get_secret_value() if password else None,
        )
        try:
            info["master_key"] = await signer.ensure()
        except CrossSigningError as exc:
            log.warning("the bot's device is not cross-signed: %s", exc)

    async def wait(self) -> None:
        assert self.task is not None
        await self.task

    async def stop(self) -> None:
        if self.health is not None:
            await self.health.stop()
        if self.task is not None:
            self.task.cancel()
            try:
                async with asyncio.timeout(STOP_TIMEOUT):
                    with contextlib.suppress(asyncio.CancelledError):
                        await self.task
            except TimeoutError:
                log.error("the sync task did not stop within %ss", STOP_TIMEOUT)
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.close()
        await self.app.close()


async def run(config: Config, *, crash_at: str | None = None) -> int:
    """Run the bot until a stop signal; returns the process exit code."""
    from bot.matrix.session import SessionError

    runtime = Runtime(config, crash_at=crash_at)
    try:
        await runtime.start()
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
