"""`rcc-bot demo`: the whole mission on a throwaway homeserver, in real encrypted rooms.

Starts Synapse on loopback, creates a chair, a steering member and NCPOCs of three countries,
the RCC and Steering Committee rooms, starts the bot on embedded defaults (SQLite) and plays a
short scenario through real encrypting clients, printing the conversation. The digest's HTML
and PNG, downloaded and decrypted as the steering member receives them, land in a folder.
Then it keeps running, so anyone can log in with a Matrix client, until Ctrl-C (`--once`
exits after the scenario).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.config import load_config
from bot.runner import Runtime
from devkit.people import Person
from devkit.synapse import Synapse, wait_for

SERVER = "rcc.demo"
PEOPLE = (  # localpart, display, role, country
    ("chair", "Chair (CARICOM IMPACS)", "chair", None),
    ("steering", "Steering Committee member", "steering", None),
    ("jm", "NCPOC Jamaica", "ncpoc", "JM"),
    ("tt", "NCPOC Trinidad and Tobago", "ncpoc", "TT"),
    ("bb", "NCPOC Barbados", "ncpoc", "BB"),
)


@dataclass
class Cast:
    chair: Person
    steering: Person
    jm: Person
    tt: Person
    bb: Person


def config_text(hs: Synapse, bot_user: str, data: Path, work: Path, roster: str) -> str:
    return f"""
[matrix]
homeserver = "{hs.url}"
user_id = "{bot_user}"
password = "demo-rccbot"
store_path = "{work / "bot-store"}"

[storage]
url = "sqlite+aiosqlite:///{data / "rcc.db"}"

[committee]
timezone = "America/Port_of_Spain"
rcc_room = "#rcc:{SERVER}"
steering_room = "#steering:{SERVER}"

[broadcast]
renotify_after = "2m"
{roster}
"""


class Transcript:
    """Prints who typed what and what the bot answered, as it happens."""

    def __init__(self, started: float) -> None:
        self.started = started

    def line(self, who: str, text: str, *, bot: bool = False) -> None:
        stamp = f"{time.monotonic() - self.started:6.1f}s"
        mark = "🤖" if bot else "💬"
        first, *rest = text.strip().splitlines() or [""]
        print(f"{stamp} {mark} {who}: {first}")
        for more in rest:
            print(f"{'':9}{'':3}{more}")

    def note(self, text: str) -> None:
        print(f"\n── {text}")


async def run_demo(*, once: bool, folder: Path, work: Path) -> int:
    started = time.monotonic()
    hs = Synapse(work / "synapse", server_name=SERVER)
    print(f"Starting a throwaway Synapse in {work} …")
    await asyncio.to_thread(hs.start)
    runtime, people = None, []
    try:
        accounts = {p[0]: hs.register(p[0], f"demo-{p[0]}") for p in PEOPLE}
        bot = hs.register("rccbot", "demo-rccbot")
        for account in [*accounts.values(), bot]:
            hs.unlimit(account.user_id)
        roster = "".join(
            f'[[roster]]\nuser_id = "{accounts[name].user_id}"\nrole = "{role}"\n'
            + (f'country = "{country}"\n' if country else "")
            for name, _, role, country in PEOPLE
        )
        config = folder / "config.toml"
        await asyncio.to_thread(
            config.write_text, config_text(hs, bot.user_id, folder, work, roster)
        )
        runtime = await Runtime.open(load_config(config))
        for name, *_ in PEOPLE:
            person = Person(hs, accounts[name], work / f"client-{name}")
            await person.start()
            person.accept_invites()
            people.append(person)
        cast = Cast(*people)
        await scenario(cast, bot.user_id, folder, Transcript(started))
        took = time.monotonic() - started
        print(
            f"\nThe scenario took {took:.0f} s. Digest: {folder / 'digest.html'} and "
            f"{folder / 'digest.png'}; the bot's database: {folder / 'rcc.db'}."
        )
        if once:
            return 0
        print_logins(hs, accounts)
        await until_interrupted()
        return 0
    finally:
        for person in people:
            await person.stop()
        if runtime is not None:
            await runtime.stop()
        await asyncio.to_thread(hs.stop)
        shutil.rmtree(work, ignore_errors=True)


def print_logins(hs: Synapse, accounts) -> None:
    print("\nThe homeserver keeps running. Log in with any Matrix client (Element: “Edit” the")
    print(f"homeserver to {hs.url}), as one of:")
    for name, display, *_ in PEOPLE:
        print(f"  {accounts[name].user_id:24} password demo-{name:10} ({display})")
    print("Rooms: #rcc:rcc.demo and #steering:rcc.demo. Press Ctrl-C to stop.")


async def until_interrupted() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def scenario(c: Cast, bot: str, folder: Path, out: Transcript) -> None:
    out.note("The chair creates the encrypted RCC and Steering Committee rooms")
    rcc = await c.chair.create_room(  # the bot a moderator: it pins a broadcast's roll-call
        invite=[bot, c.jm.user_id, c.tt.user_id, c.bb.user_id], alias="rcc", moderators=[bot]
    )
    steering = await c.chair.create_room(invite=[bot, c.steering.user_id], alias="steering")
    for person in (c.jm, c.tt, c.bb):
        await person.wait_member(rcc, person.user_id)
    for person in (c.chair, c.jm, c.tt, c.bb):
        for other in (bot, c.chair.user_id, c.jm.user_id, c.tt.user_id, c.bb.user_id):
            await person.wait_member(rcc, other)
    for person in (c.chair, c.steering):
        for other in (bot, c.chair.user_id, c.steering.user_id):
            await person.wait_member(steering, other)

    async def ask(person: Person, who: str, room: str, text: str) -> str:
        out.line(who, text)
        reply = await person.ask(room, text, within=120)
        out.line("rcc-bot", reply.body, bot=True)
        return reply.body

    out.note("The committee's first task: a standard adopted by one vote per country")
    await ask(c.chair, "chair", rcc, "!motion propose legal.strategy National Cyber Security "
              "Strategy approved by Cabinet and published")  # fmt: skip
    await ask(c.jm, "jm", rcc, "!vote MO-1 yes")
    await ask(c.tt, "tt", rcc, "!vote MO-1 yes")

    out.note("Status against the minimum standards, and a report")
    await ask(c.jm, "jm", rcc, "!status set legal.strategy met Approved by Cabinet in March")
    await ask(c.jm, "jm", rcc, "!status set coop.cert in-progress CSIRT staffing under way")
    await ask(c.tt, "tt", rcc, "!status set legal.cybercrime met Cybercrime Act in force")
    await ask(c.jm, "jm", rcc, "!status submit Reviewed with the ministry")
    await ask(c.chair, "chair", rcc, "!gaps")
    await ask(c.jm, "jm", rcc, '!project add CSIRT set-up lead=ITU funding="World Bank" '
              "items=coop.cert target=2027-06")  # fmt: skip
    await ask(c.jm, "jm", rcc, "!help-with coop.cert")

    out.note("An incident under TLP, and a lesson learnt")
    await ask(
        c.tt,
        "tt",
        rcc,
        "!incident new severity=high tlp=amber sectors=finance "
        "countries=JM,TT Phishing wave against bank customers",
    )
    await ask(c.jm, "jm", rcc, "!incident update INC-1 status=contained Domains taken down")
    await ask(
        c.tt,
        "tt",
        rcc,
        "!lesson add area=coop tags=phishing,registrars Pre-agreed "
        "takedown contacts at registrars cut response time from days to hours",
    )
    await ask(c.bb, "bb", rcc, "!lesson search takedown")

    out.note("An emergency broadcast, acknowledged three ways")
    out.line("chair", "!broadcast severity=critical exercise=yes Switch to the fallback channel")
    command = await c.chair.say(
        rcc, "!broadcast severity=critical exercise=yes Switch to the fallback channel"
    )
    announced = await c.jm.reply_to(command, within=120)
    out.line("rcc-bot", announced.body, bot=True)
    await ask(c.jm, "jm", rcc, "!ack")
    dm = await wait_for(lambda: _broadcast_dm(c.tt), 120)
    out.line("tt (reply in DM)", "Ack.")
    ack = await c.tt.reply(dm[0], dm[1], "Ack.")
    # The bot answers in the order it reads them; bb's count is the last only once tt's is in.
    await c.tt.reply_to(ack, within=120)
    out.line("bb (reaction)", "✅")
    await c.bb.react(rcc, announced.event_id, "✅")
    await wait_for(lambda: _said(c.bb, "3/3 countries so far"), 120)
    await ask(c.chair, "chair", rcc, "!broadcast status")

    out.note("The digest for the Steering Committee: a draft, published once the chair approves")
    await ask(c.chair, "chair", rcc, "!digest to=steering")
    drafts = await wait_for(
        lambda: [r for r, e in c.chair.messages if "draft DG-1" in e.body and r != rcc], 180
    )
    await ask(c.chair, "chair", drafts[0], "!digest approve DG-1")
    files = await wait_for(lambda: len(c.steering.files) >= 2 and c.steering.files, 180)
    for _, event in files[:2]:
        data = await c.steering.download(event)
        name = "digest.png" if event.source["content"]["msgtype"] == "m.image" else "digest.html"
        await asyncio.to_thread((folder / name).write_bytes, data)
    digest = next(e for r, e in c.steering.messages if r == steering and "digest" in e.body)
    out.line("rcc-bot (in the Steering Committee room)", digest.body.splitlines()[0], bot=True)


def _broadcast_dm(person: Person):
    """The broadcast as it arrived in this person's DM with the bot: (room, event ID)."""
    for room, event in person.messages:
        if "broadcast BC-1" in event.body and person.client.rooms[room].joined_count == 2:
            return room, event.event_id
    return None


def _said(person: Person, text: str) -> bool:
    return any(text in e.body for _, e in person.messages)


def main(once: bool, folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("rcc.db*"):  # each demo starts from nothing, like its homeserver
        old.unlink()
    work = Path(tempfile.mkdtemp(prefix="rcc-demo-"))
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run_demo(once=once, folder=folder, work=work))
    return 0
