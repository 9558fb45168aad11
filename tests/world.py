"""One end-to-end scene: a bot and real people on the session's Synapse, fresh per test."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import select

from bot.app import Clock, system_clock
from bot.config import load_config
from bot.runner import Runtime
from devkit.element import ElementPerson
from devkit.people import Person
from devkit.synapse import Synapse, environment_without_proxies, wait_for
from storage.db import Database
from storage.outbox import OutboxMessage

START_WITHIN = 120  # seconds; a cold start on a busy machine takes a few


class World:
    def __init__(self, hs: Synapse, tmp: Path) -> None:
        self.hs, self.tmp = hs, tmp
        self.tag = uuid.uuid4().hex[:6]
        self.people: list[Person] = []
        self.element_people: list[ElementPerson] = []
        self.roster: list[tuple[str, str, str | None]] = []
        self.details: dict[str, dict[str, str]] = {}  # a contact's kind, email, phone...
        self.bot_account = hs.register(f"rccbot-{self.tag}", "bot-password")
        hs.unlimit(self.bot_account.user_id)
        self.rcc_alias = f"rcc-{self.tag}"
        self.steering_alias = f"steering-{self.tag}"
        self.runtime: Runtime | None = None
        self.process: subprocess.Popen | None = None
        self.db_url = f"sqlite+aiosqlite:///{tmp / 'rcc.db'}"
        self.extra_config = ""
        self.open_dms = False  # most scenes do not want DM invites at start
        self.renotify_after = "15m"
        self.broadcast_config = ""  # more lines for the [broadcast] section
        self.password: str | None = "bot-password"
        self.access_token, self.device_id = "", ""  # used when password is None
        self.homeserver = hs.url
        self.clock: Clock = system_clock  # a test may move it (tests.helpers.ShiftedClock)

    @property
    def bot_id(self) -> str:
        return self.bot_account.user_id

    async def person(
        self, name: str, role: str | None = None, country: str | None = None, **details: str
    ):
        account = self.hs.register(f"{name}-{self.tag}")
        self.hs.unlimit(account.user_id)
        someone = Person(self.hs, account, self.tmp / f"person-{name}")
        await someone.start()
        self.people.append(someone)
        if role:
            self.roster.append((account.user_id, role, country))
            if details:
                self.details[account.user_id] = details
        return someone

    async def element_person(
        self, name: str, role: str | None = None, country: str | None = None
    ) -> ElementPerson:
        """Someone on the stack Element uses (matrix-js-sdk, Rust crypto) on their only device,
        cross-signed as Element does at first login."""
        account = self.hs.register(f"{name}-{self.tag}")
        self.hs.unlimit(account.user_id)
        someone = ElementPerson(self.hs, account, self.tmp / f"element-{name}.log")
        self.element_people.append(someone)
        await someone.start()
        if role:
            self.roster.append((account.user_id, role, country))
        return someone

    async def device(self, person: Person, name: str, *, cross_signed: bool) -> Person:
        """`person` signed in on another device, cross-signed by them or not."""
        other = await person.another_device(name, cross_signed=cross_signed)
        self.people.append(other)
        return other

    def config_path(self) -> Path:
        roster = "".join(
            f'[[roster]]\nuser_id = "{user}"\nrole = "{role}"\n'
            + (f'country = "{country}"\n' if country else "")
            + "".join(f'{k} = "{v}"\n' for k, v in self.details.get(user, {}).items())
            for user, role, country in self.roster
        )
        path = self.tmp / "config.toml"
        path.write_text(
            f"""
[matrix]
homeserver = "{self.homeserver}"
user_id = "{self.bot_id}"
{self._credentials()}
store_path = "{self.tmp / "store"}"

[storage]
url = "{self.db_url}"

[committee]
timezone = "America/Port_of_Spain"
rcc_room = "#{self.rcc_alias}:{self.hs.server_name}"
steering_room = "#{self.steering_alias}:{self.hs.server_name}"

[broadcast]
open_dms_at_start = {"true" if self.open_dms else "false"}
renotify_after = "{self.renotify_after}"
{self.broadcast_config}

[bot]
log_level = "DEBUG"
{self.extra_config}
{roster}
"""
        )
        return path

    def _credentials(self) -> str:
        """A password, or (`password` None) an access token with its device."""
        if self.password is not None:
            return f'password = "{self.password}"'
        return f'access_token = "{self.access_token}"\ndevice_id = "{self.device_id}"'

    async def start_bot(self, *, crash_at: str | None = None) -> Runtime:
        config = load_config(self.config_path())
        async with asyncio.timeout(START_WITHIN):
            self.runtime = await Runtime.open(config, crash_at=crash_at, clock=self.clock)
        return self.runtime

    async def stop_bot(self) -> None:
        if self.runtime is not None:
            async with asyncio.timeout(START_WITHIN):
                await self.runtime.stop()
            self.runtime = None

    def spawn_bot(self, *, crash_at: str | None = None) -> subprocess.Popen:
        """The bot as its own process, as `rcc-bot run` starts it (for kill tests)."""
        env = environment_without_proxies()
        env.pop("RCC_CRASH_AT", None)
        if crash_at:
            env["RCC_CRASH_AT"] = crash_at
        log = (self.tmp / "bot.log").open("ab")
        script = Path(sys.executable).with_name("rcc-bot")
        self.process = subprocess.Popen(
            [script, "run", "--config", self.config_path()],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.tmp,
        )
        return self.process

    def kill_bot(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    async def wait_exit(self, within: float = START_WITHIN) -> int:
        await wait_for(lambda: self.process.poll() is not None, within)
        return self.process.returncode

    async def room(
        self,
        owner: Person,
        members: list[Person],
        *,
        alias: str | None = None,
        encrypted: bool = True,
        bot: bool = True,
    ) -> str:
        """A room created by `owner` with the bot and `members` joined, all seeing each other."""
        invite = [m.user_id for m in members] + ([self.bot_id] if bot else [])
        room_id = await owner.create_room(invite=invite, alias=alias, encrypted=encrypted)
        for member in members:  # (someone who accepts every invite may have joined already)
            await wait_for(
                lambda m=member: room_id in m.client.invited_rooms or room_id in m.client.rooms
            )
            if room_id not in member.client.rooms:
                await member.join(room_id)
        everyone = [owner, *members]
        for viewer in everyone:
            for other in everyone + ([] if not bot else [None]):
                user = self.bot_id if other is None else other.user_id
                await viewer.wait_member(room_id, user)
        return room_id

    async def rcc_room(self, owner: Person, members: list[Person]) -> str:
        return await self.room(owner, members, alias=self.rcc_alias)

    async def rows(self, model, *where) -> list:
        """Rows of the bot's database, read beside the running bot."""
        db = Database(self.db_url)
        try:
            async with db.unit(write=False) as store:
                return list(await store._session.scalars(select(model).where(*where)))
        finally:
            await db.close()

    async def quiet(self, *people: Person, within: float = 120) -> None:
        """Nothing more is on its way: every message the bot has queued is sent, and each
        person has received every one of them sent to a room they are in.

        Proves an absence (no second reply, no extra reminder) without a fixed sleep, as long
        as whatever could cause the message was handled before: see `barrier`.
        """
        missing: list[str] = []

        async def received() -> bool:
            queued = await self.rows(OutboxMessage)
            missing[:] = [
                f"pending #{row.id} {row.kind} in {row.room_id}, {row.attempts} tries: {row.error}"
                for row in queued
                if row.state == "pending"
            ]
            for person in people:
                for row in queued:
                    if (
                        row.state == "sent"
                        and row.room_id in person.client.rooms
                        and row.event_id not in person.seen
                        and await person.may_read(row.room_id, row.event_id)
                    ):
                        missing.append(
                            f"{person.user_id} {person.client.device_id} lacks {row.event_id} "
                            f"in {row.room_id} (sync errors: {person.sync_errors[-2:]})"
                        )
            return not missing

        try:
            await wait_for(received, within, interval=0.2)
        except TimeoutError:
            raise TimeoutError(f"not quiet after {within}s: {missing[:5]}") from None

    async def barrier(self, person: Person, room: str) -> None:
        """Everything sent into `room` before now has been handled and its answers received.

        The bot handles a room's events in order, so once a later command is answered,
        whatever the earlier ones caused is in the outbox; `quiet` then waits for it to arrive.
        """
        await person.ask(room, "!whoami")
        await self.quiet(person)

    async def close(self) -> None:
        await self.stop_bot()
        self.kill_bot()
        await asyncio.gather(
            *(p.stop() for p in [*self.people, *self.element_people]), return_exceptions=True
        )
