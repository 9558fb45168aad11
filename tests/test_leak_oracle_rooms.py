"""The leak oracle, grown: every kind of output — command replies, job posts, DMs, files and
emails — delivered through the bot's own gate into rooms whose readers change after the
output was written, and checked against the rule read again here, independently.

The rule, as the Action Plan's TLP 2.0 and the README state it:
- CLEAR to anyone; GREEN to anyone but a public room;
- AMBER and AMBER+STRICT in full only to an encrypted, closed room whose readers (joined and
  invited, now) are all NCPOCs or the chair; AMBER's title also to roster members (the
  Steering Committee);
- TLP:RED in full only to people who were in its room when it was posted, or named with it;
- what a person writes without a label (a project, a motion, minutes, an action, a relay
  note) is AMBER: it was said in a committee room or a DM;
- contact details (phones, emails) only to a current chair, alone in a DM with the bot;
- a message for a person (a broadcast's copy, a reminder) only into a DM of that person
  alone, while they are still on the roster.
Markers (random words) stand for each record's text; the oracle finds them in what is
delivered.
"""

from __future__ import annotations

import itertools
import json
import random
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.files import render_file
from tests.helpers import (
    ADMIN,
    CHAIR,
    DEFAULT_ROSTER,
    JM1,
    JM2,
    OUTSIDER,
    STEERING,
    TT1,
    TT2,
    say,
)

EXAMPLES = itertools.count()
START = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)

BB1 = "@bb1:test.org"
TT_CIRT = "@tt-cirt:test.org"
CONTACTS = f'''
[[roster]]
user_id = "{JM2}"
role = "ncpoc"
country = "JM"

[[roster]]
user_id = "{BB1}"
role = "ncpoc"
country = "BB"

[[roster]]
user_id = "{TT_CIRT}"
role = "contact"
country = "TT"
kind = "cirt"
phone = "+18685550100"
email = "duty@ttcsirt.example"

[[roster]]
role = "contact"
country = "BB"
kind = "le-24x7"
email = "desk@bbpolice.example"
'''
PRIVATE = ("+18685550100", "duty@ttcsirt.example", "desk@bbpolice.example")
LEVELS = ("clear", "green", "amber", "amber+strict", "red")
RCC, STEER, ORIGIN = "!rcc:test.org", "!steering:test.org", "!origin:test.org"
COMMITTEE = frozenset({CHAIR, JM1, JM2, TT1, TT2, BB1})  # NCPOCs and the chair
ROSTER = COMMITTEE | {STEERING, ADMIN, TT_CIRT}


def dm(user: str) -> str:
    return f"!dm-{user}"


@dataclass
class Rooms:
    """Who is in each room now, and how it is kept."""

    members: dict[str, set[str]] = field(default_factory=dict)
    encrypted: dict[str, bool] = field(default_factory=dict)
    public: dict[str, bool] = field(default_factory=dict)
    open_door: set[str] = field(default_factory=set)  # knock or restricted: come in unasked
    read_back: set[str] = field(default_factory=set)  # history shared: newcomers read back

    def set(self, app, room: str, members, *, encrypted=True, public=False) -> None:
        self.members[room] = set(members)
        self.encrypted[room], self.public[room] = encrypted, public
        app.test_rooms.set(
            room, members, encrypted=encrypted, public=public,
            open_door=room in self.open_door, history_shared=room in self.read_back,
        )  # fmt: skip

    def closed(self, room: str) -> bool:
        """Encrypted, and nobody comes in without an invitation."""
        kept = self.encrypted.get(room, False) and not self.public.get(room, False)
        return kept and room not in self.open_door


@dataclass
class Secret:
    kind: str
    level: str
    marker: str
    room: str
    people: frozenset[str]  # who was in its room when it was said
    title: bool = False  # the marker is an AMBER item's title (the Steering Committee's too)
    owner: str | None = None  # contact details: whose (they read their own in their DM)


@dataclass
class Oracle:
    secrets: list[Secret] = field(default_factory=list)
    roster: set[str] = field(default_factory=lambda: set(ROSTER))
    chairs: set[str] = field(default_factory=lambda: {CHAIR})
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def marker(self) -> str:
        return f"m{self.rng.randrange(16**8):08x}q"

    def may_read(self, secret: Secret, rooms: Rooms, room: str) -> bool:
        """The rule, read again: may everyone in `room` now read this secret?"""
        readers = rooms.members.get(room, set())
        closed = rooms.closed(room)
        committee = {r for r in readers if r in COMMITTEE and r in self.roster}
        if secret.kind == "contact":
            alone = closed and len(readers) == 1
            return alone and (readers <= self.chairs or readers == {secret.owner})
        if secret.level == "clear":
            return True
        if secret.level == "green":
            return not rooms.public.get(room, False)
        if secret.level == "red":
            fit = closed and room not in rooms.read_back  # a newcomer cannot read back
            return fit and readers == committee and readers <= secret.people
        if secret.title and secret.level == "amber":
            return closed and readers <= self.roster - {TT_CIRT}
        return closed and readers == committee

    def may_read_addressed(self, rooms: Rooms, room: str, person: str) -> bool:
        """A message for one person (a broadcast's copy): their DM with them alone."""
        readers = rooms.members.get(room, set())
        closed = rooms.closed(room)
        return closed and readers == {person} and person in self.roster


async def said(app, oracle: Oracle, rooms: Rooms, sender: str, text: str, room: str, *,
               kind: str, level: str, title: bool = False, marker: str) -> None:  # fmt: skip
    outcome = await say(app, sender, text, room=room, kind="rcc" if room == RCC else "direct")
    assert outcome.outcome == "accepted", (text, [r.message.body for r in outcome.replies])
    people = frozenset(rooms.members.get(room, set()))
    oracle.secrets.append(Secret(kind, level, marker, room, people, title))


async def deliver(app, rooms: Rooms) -> list[tuple[str, object]]:
    """Every pending message, through the app's own gate (what its sender checks before it
    sends), marked sent or refused; returns (room, row) of those the gate let through."""
    admitted = []
    async with app.db.unit() as store:
        pending = await store.outbox.pending(limit=10_000)
        pending += await store.outbox.pending(limit=10_000, email=True)
    for row in pending:
        if row.kind == "email":
            room = None
        else:
            room = row.room_id or (dm(row.to_user) if row.to_user else None)
        if room is not None and row.room_id is None:
            async with app.db.unit() as store:
                await store.outbox.set_room(row.id, room)
            row.room_id = room
        if await app_admits(app, row):
            admitted.append((room or f"email:{row.to_user}", row))
    async with app.db.unit() as store:
        await store.outbox.mark_all_sent([(r.id, f"$s{r.id}", app.clock()) for _, r in admitted])
        for row in pending:
            if all(r.id != row.id for _, r in admitted):
                await store.outbox.mark_failed(row.id, error="refused by the gate")
    return admitted


async def app_admits(app, row) -> bool:
    """The app's own send-time check (bot.app.App.admits), as its sender makes it; a DM with
    someone else in it is never sent into (the bot opens a fresh one: not played here)."""
    from bot.matrix.ports import Admission

    if row.kind == "email":
        return True  # the outbox writer let it through: what it carries is checked below
    return await app.admits(row) is Admission.SEND


def rendered(app, row) -> str:
    content = json.loads(row.content)
    if row.kind == "file":
        data = content["data"]
        return render_file(app.renderer, content["renderer"], data, content.get("lang")).decode(
            "latin-1"
        ) + json.dumps(data)
    return "\n".join(
        str(content.get(k, "")) for k in ("body", "formatted_body", "text", "subject")
    )


def leaks(app, oracle: Oracle, rooms: Rooms, delivered) -> list[str]:
    found = []
    for room, row in delivered:
        text = rendered(app, row)
        for secret in oracle.secrets:
            if secret.marker not in text:
                continue
            if room.startswith("email:"):
                ok = secret.level in ("clear", "green") and secret.kind != "contact"
            elif secret.kind == "broadcast" and row.to_user:
                ok = oracle.may_read_addressed(rooms, room, row.to_user)
            else:
                ok = oracle.may_read(secret, rooms, room)
            if not ok:
                readers = sorted(rooms.members.get(room, set()))
                found.append(f"{secret.kind}[{secret.level}] in {room} {readers} ({row.kind})")
    return found


async def fresh_app(templates, tmp_path, clock):
    """The bot's core on a database of its own: each example starts from nothing."""
    from bot.app import App, prepare
    from bot.config import load_config
    from bot.faults import CrashPoints
    from commands.framework import BotIdentity
    from storage.db import Database
    from tests.helpers import Rooms as TestRooms
    from tests.helpers import write_config

    where = tmp_path / f"example-{next(EXAMPLES)}"
    where.mkdir()
    shutil.copyfile(await templates.sqlite_file(), where / "rcc.db")
    url = f"sqlite+aiosqlite:///{where / 'rcc.db'}"
    extra = (
        '[digest]\napproval = "none"\n[broadcast]\nemail_after = "1m"\n'
        '[smtp]\nhost = "127.0.0.1"\nfrom = "bot@rcc.example"\n'
    )
    config = load_config(write_config(where, url, extra=extra, roster=DEFAULT_ROSTER + CONTACTS))
    db = Database(url)
    await prepare(db, config, clock)
    test_rooms = TestRooms()
    app = App(
        config, db=db, clock=clock, rooms={}, facts=test_rooms.facts,
        identity=BotIdentity("@rccbot:test.org", "RCCBOTTEST"), submit=lambda rows: None,
        faults=CrashPoints(), exists=test_rooms.exists, joined=test_rooms.joined,
    )  # fmt: skip
    app.test_rooms = test_rooms  # type: ignore[attr-defined]
    return app


READS = [
    "!incident list all", "!lesson list", "!resource list", "!projects", "!motions",
    "!decisions", "!actions all", "!meetings", "!broadcast status", "!contacts", "!roster",
    "!digest", "!report steering", "!report heads", "!report csm", "!help-with legal.strategy",
]  # fmt: skip

CHANGES = [
    "late joiner",
    "outsider in a DM",
    "stand-in removed",
    "steering in the RCC room",
    "RCC room open to knocks",
    "origin room's history shared",
]


async def scene(app, clock, oracle: Oracle, rooms: Rooms) -> None:
    """Records of every kind at every label, said where the committee says them."""
    rooms.set(app, RCC, COMMITTEE)
    rooms.set(app, STEER, {STEERING, CHAIR})
    rooms.set(app, ORIGIN, {JM1, TT1, CHAIR})
    for user in ROSTER | {JM2}:
        rooms.set(app, dm(user), {user})
    app.rooms.update({"rcc": RCC, "steering": STEER})
    await say(app, JM1, "!status set legal.strategy met", room=RCC)
    for level in LEVELS:
        for room in (RCC, ORIGIN):
            m = oracle.marker()
            await said(app, oracle, rooms, JM1, f"!incident new severity=high tlp={level} {m} x",
                       room, kind="incident", level=level, title=True, marker=m)  # fmt: skip
            m = oracle.marker()
            await said(app, oracle, rooms, JM1, f"!lesson add tlp={level} {m} learnt", room,
                       kind="lesson", level=level, marker=m)  # fmt: skip
            m = oracle.marker()
            await said(app, oracle, rooms, JM1, f"!resource add kind=tool tlp={level} {m} kit",
                       room, kind="resource", level=level, marker=m)  # fmt: skip
    # What people write without a label: AMBER, said in the RCC room.
    m = oracle.marker()
    await said(app, oracle, rooms, JM1, f"!project add {m} lead=Jamaica items=legal.strategy",
               RCC, kind="project", level="amber", marker=m)  # fmt: skip
    m = oracle.marker()
    await said(app, oracle, rooms, CHAIR, f"!motion propose legal.cybercrime {m} enacted", RCC,
               kind="motion", level="amber", marker=m)  # fmt: skip
    await say(app, CHAIR, "!meeting add 2026-11-20 10:00 Quarterly room=steering", room=RCC)
    await say(app, CHAIR, "!minutes start", room=RCC)
    for verb in ("agreed", "info"):
        m = oracle.marker()
        await said(app, oracle, rooms, CHAIR, f"!{verb} {m} decided", RCC, kind=verb,
                   level="amber", marker=m)  # fmt: skip
    m = oracle.marker()
    await said(app, oracle, rooms, CHAIR, f"!action {JM1} due=2026-11-30 {m} todo", RCC,
               kind="action", level="amber", marker=m)  # fmt: skip
    await say(app, CHAIR, "!minutes stop", room=RCC)
    for detail, owner in zip(PRIVATE, (TT_CIRT, TT_CIRT, None), strict=True):
        oracle.secrets.append(Secret("contact", "red", detail, "", frozenset(), owner=owner))
    await deliver(app, rooms)  # what was said so far reached its own rooms


async def changed(app, oracle: Oracle, rooms: Rooms, change: str) -> None:
    if change == "late joiner":  # a roster NCPOC who was not there when RED was posted
        rooms.set(app, ORIGIN, rooms.members[ORIGIN] | {BB1})
    elif change == "outsider in a DM":
        rooms.set(app, dm(JM1), {JM1, OUTSIDER})
    elif change == "steering in the RCC room":
        rooms.set(app, RCC, rooms.members[RCC] | {STEERING})
    elif change == "stand-in removed":
        await say(app, TT1, f"!away until 2026-12-30 to={TT2}", room=dm(TT1), kind="direct")
        await say(app, CHAIR, f"!roster remove {TT2}", room=dm(CHAIR), kind="direct")
        oracle.roster.discard(TT2)
    elif change == "RCC room open to knocks":  # whoever knocks may be let in
        rooms.open_door.add(RCC)
        rooms.set(app, RCC, rooms.members[RCC])
    elif change == "origin room's history shared":  # a newcomer would read RED back
        rooms.read_back.add(ORIGIN)
        rooms.set(app, ORIGIN, rooms.members[ORIGIN])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    changes=st.sets(st.sampled_from(CHANGES)),
    room=st.sampled_from([RCC, STEER, ORIGIN, "dm-jm1", "dm-steering", "dm-chair"]),
    reads=st.lists(st.sampled_from(READS), min_size=2, max_size=5, unique=True),
    broadcast=st.sampled_from(LEVELS),
)
async def test_no_output_reaches_a_reader_it_should_not(
    templates, tmp_path, clock, changes, room, reads, broadcast
):
    clock.current = START
    app = await fresh_app(templates, tmp_path, clock)
    oracle, rooms = Oracle(rng=random.Random(len(reads) * 31 + len(changes))), Rooms()
    await scene(app, clock, oracle, rooms)
    # A broadcast written now, delivered after the rooms changed.
    m = oracle.marker()
    text = f"!broadcast tlp={broadcast} {m} now, patch the VPNs"
    await said(app, oracle, rooms, CHAIR, text, RCC, kind="broadcast", level=broadcast, marker=m)
    await app.jobs.run("broadcast", 1)
    m = oracle.marker()
    relay = await say(app, TT1, f"!relayed BC-1 {m} passed on", room=dm(TT1), kind="direct")
    if relay.outcome == "accepted":
        oracle.secrets.append(Secret("relay", "amber", m, dm(TT1), frozenset({TT1})))
    for change in sorted(changes):
        await changed(app, oracle, rooms, change)
    asker_room = {"dm-jm1": dm(JM1), "dm-steering": dm(STEERING), "dm-chair": dm(CHAIR)}.get(
        room, room
    )
    asker = {RCC: JM1, STEER: STEERING, ORIGIN: TT1, dm(JM1): JM1, dm(STEERING): STEERING,
             dm(CHAIR): CHAIR}[asker_room]  # fmt: skip
    kind = {RCC: "rcc", STEER: "steering"}.get(
        asker_room, "direct" if "dm" in asker_room else "rcc"
    )
    for text in reads:
        await say(app, asker, text, room=asker_room, kind=kind)
    clock.advance(timedelta(days=3))  # the jobs: escalation, emails, reminders, the agenda
    for job in ("broadcast", "meeting", "action"):
        for key in (0, 1):
            await app.jobs.run(job, key)
    delivered = await deliver(app, rooms)
    await app.db.close()
    assert not leaks(app, oracle, rooms, delivered)
