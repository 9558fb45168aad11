"""A benchmark scene: its own Synapse, the bot and the echo bot as processes, real clients."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from devkit.people import Person
from devkit.synapse import Synapse, environment_without_proxies, wait_for

ROOT = Path(__file__).resolve().parents[1]

# The measuring clients share rooms without sharing keys with each other, and nio warns about
# every message they cannot read: thousands of lines around the tables that matter.
logging.getLogger("nio").setLevel(logging.ERROR)


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def compiled() -> None:
    """Byte-compile the project's packages, as installing the wheel does (pip compiles every
    module it installs). An editable checkout under PYTHONDONTWRITEBYTECODE (set on the
    machines we measure on) would otherwise compile some 130 modules from source at each
    start — 0.15 s of every cold start that no deployment pays. The floors import the storage
    package, so they are measured the same way."""
    import compileall

    for package in ("bot", "commands", "storage", "bench"):
        compileall.compile_dir(ROOT / package, quiet=1)


class Scene:
    def __init__(
        self,
        *,
        ncpocs: int = 1,
        open_dms: bool = False,
        layout: list[tuple[str, str, str | None]] | None = None,
    ) -> None:
        """`ncpocs` NCPOCs spread over the countries; or, with `layout`, one account per
        (country, role, kind): NCPOCs and national contacts as a committee has them."""
        self.layout = layout or []
        if layout:
            ncpocs = len(layout)
        self.tmp = Path(tempfile.mkdtemp(prefix="rcc-bench-"))
        self.hs = Synapse(self.tmp / "synapse", server_name="bench.test")
        self.ncpocs, self.open_dms = ncpocs, open_dms
        self.people: list[Person] = []
        self.processes: dict[str, subprocess.Popen] = {}
        self.bot_env: dict[str, str] = {}

    async def __aenter__(self) -> Scene:
        compiled()
        await asyncio.to_thread(self.hs.start)
        self.bot_account = self.hs.register("rccbot", "bot-password")
        self.echo_account = self.hs.register("echo", "echo-password")
        self.stack_account = self.hs.register("stack", "stack-password")
        self.chair_account = self.hs.register("chair", "chair-password")
        self.ncpoc_accounts = [self.hs.register(f"ncpoc{n}", "pw") for n in range(self.ncpocs)]
        for account in (
            self.bot_account,
            self.echo_account,
            self.stack_account,
            self.chair_account,
            *self.ncpoc_accounts,
        ):
            self.hs.unlimit(account.user_id)
        self.write_config()
        return self

    async def __aexit__(self, *exc) -> None:
        for person in self.people:
            await person.stop()
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
        await asyncio.to_thread(self.hs.stop)

    def write_config(self) -> None:
        from commands.reference import load_countries

        codes = [c.code for c in load_countries()]
        roster = f'[[roster]]\nuser_id = "{self.chair_account.user_id}"\nrole = "chair"\n'
        for n, account in enumerate(self.ncpoc_accounts):
            code, role, kind = (
                self.layout[n] if self.layout else (codes[n % len(codes)], "ncpoc", None)
            )
            roster += f'[[roster]]\nuser_id = "{account.user_id}"\nrole = "{role}"\n'
            roster += f'country = "{code}"\n' + (f'kind = "{kind}"\n' if kind else "")
        limit = max(2, (self.ncpocs + len(codes) - 1) // len(codes))
        self.config = self.tmp / "config.toml"
        self.config.write_text(f"""
[matrix]
homeserver = "{self.hs.url}"
user_id = "{self.bot_account.user_id}"
password = "bot-password"
store_path = "{self.tmp / "store"}"
[storage]
url = "sqlite+aiosqlite:///{self.tmp / "rcc.db"}"
[committee]
timezone = "America/Port_of_Spain"
rcc_room = "#rcc:bench.test"
steering_room = "#steering:bench.test"
max_ncpocs_per_country = {min(limit, 10)}
[broadcast]
open_dms_at_start = {"true" if self.open_dms else "false"}
[bot]
log_level = "INFO"
{roster}
""")

    def start_bot(self) -> subprocess.Popen:
        script = Path(sys.executable).with_name("rcc-bot")
        log = (self.tmp / "bot.log").open("ab")
        self.processes["bot"] = subprocess.Popen(
            [script, "run", "--config", self.config],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment_without_proxies(),
            cwd=self.tmp,
        )
        return self.processes["bot"]

    def start_echo(self) -> subprocess.Popen:
        """The bare floor: a nio echo bot, nothing else."""
        return self._floor("echo", self.echo_account.user_id, "echo-password")

    def start_stack(self) -> subprocess.Popen:
        """The stack floor: the echo bot writing one row per command through the bot's
        storage (bench/echo.py --stack)."""
        url = f"sqlite+aiosqlite:///{self.tmp / 'stack.db'}"
        return self._floor("stack", self.stack_account.user_id, "stack-password", url)

    def _floor(self, name: str, user: str, password: str, stack: str | None = None):
        log = (self.tmp / f"{name}.log").open("ab")
        args = [sys.executable, "-m", "bench.echo", "--homeserver", self.hs.url, "--user",
                user, "--password", password, "--store", self.tmp / f"{name}-store"]  # fmt: skip
        self.processes[name] = subprocess.Popen(
            [*args, *(["--stack", stack] if stack else [])],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment_without_proxies(),
            cwd=ROOT,
        )
        return self.processes[name]

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGTERM)
        process.wait(15)

    async def person(self, account) -> Person:
        someone = Person(self.hs, account, self.tmp / f"client-{account.localpart}")
        await someone.start()
        self.people.append(someone)
        return someone

    async def room_with(self, owner: Person, bot_id: str, members=(), alias=None) -> str:
        """A room owned by `owner` with a bot and members, everyone seeing everyone."""
        room = await owner.create_room(invite=[bot_id, *(m.user_id for m in members)], alias=alias)
        for member in members:
            await wait_for(lambda m=member: room in m.client.invited_rooms, 30)
            await member.join(room)
        everyone = [owner, *members]
        for viewer in everyone:
            for user in [bot_id, *(p.user_id for p in everyone)]:
                await viewer.wait_member(room, user, 60)
        return room


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "min_ms": min(values) * 1000,
        "median_ms": percentile(values, 0.5) * 1000,
        "p95_ms": percentile(values, 0.95) * 1000,
    }


async def timed_ask(person: Person, room: str, text: str, within: float = 30) -> float:
    started = time.perf_counter()
    await person.ask(room, text, within=within)
    return time.perf_counter() - started


__all__ = ["Scene", "os", "rss_mb", "summary", "timed_ask"]
