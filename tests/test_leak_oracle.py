"""The leak oracle: items of every kind and label, each free-text field carrying a secret
marker, read by audiences of every kind through every read command, the digest and the
offline export. A marker of an item the audience may not see in full must never appear.

What an audience may see is written out here again, from the Action Plan's TLP rules as the
README states them, independently of `commands.audience`: the oracle is a second reading of
the rule, not a copy of it.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.files import render_file
from commands.audience import FILE_AUDIENCES, Viewer
from commands.digest.data import build, digest_period
from tests.helpers import ADMIN, CHAIR, JM1, OUTSIDER, RCC_MEMBERS, STEERING, TT1, say

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

LEVELS = ("clear", "green", "amber", "amber+strict", "red")
ORIGINS = ("!origin-a:test.org", "!origin-b:test.org")


@dataclass(frozen=True)
class Room:
    """An audience: who is in the room, how it is kept, and who asks there."""

    name: str
    room_id: str
    members: frozenset[str]
    asker: str
    encrypted: bool = True
    public: bool = False

    def sees_in_full(self, level: str, origin: str) -> bool:
        """The rule as the README's table states it, read again."""
        if level == "clear":
            return True
        if level == "green":
            return not self.public
        rcc_only = self.encrypted and not self.public and self.members <= RCC_MEMBERS
        if level == "red":  # for the people in its room when it was posted (TLP 2.0)
            return rcc_only and self.members <= POSTED_TO[origin]
        return rcc_only  # amber, amber+strict

    def sees_title(self, level: str, origin: str) -> bool:
        """AMBER's title is for the Steering Committee too (roster members only)."""
        roster_only = self.members <= RCC_MEMBERS | {STEERING, ADMIN}
        steering = level == "amber" and self.encrypted and not self.public and roster_only
        return steering or self.sees_in_full(level, origin)


# Who was in each room where records are posted, when they were posted.
POSTED_TO = {
    "!origin-a:test.org": RCC_MEMBERS,
    "!origin-b:test.org": RCC_MEMBERS,
}
ROOMS = [
    Room("origin A", ORIGINS[0], RCC_MEMBERS, JM1),
    Room("origin B", ORIGINS[1], RCC_MEMBERS, TT1),
    Room("all-RCC room", "!rcc-other:test.org", RCC_MEMBERS, CHAIR),
    Room("DM with an NCPOC", "!dm-jm:test.org", frozenset({JM1}), JM1),
    Room("DM with steering", "!dm-st:test.org", frozenset({STEERING}), STEERING),
    Room("Steering room", "!steering-x:test.org", frozenset({STEERING, CHAIR}), CHAIR),
    Room("admin in the room", "!with-admin:test.org", RCC_MEMBERS | {ADMIN}, CHAIR),
    Room("outsider invited", "!outsider:test.org", frozenset({JM1, OUTSIDER}), JM1),
    Room("unencrypted", "!plain:test.org", RCC_MEMBERS, JM1, encrypted=False),
    Room("public", "!public:test.org", RCC_MEMBERS, JM1, public=True),
]


@dataclass
class Item:
    kind: str  # incident | lesson | resource
    number: int
    level: str
    origin: str
    markers: dict[str, str]  # field -> marker


@dataclass
class World:
    items: list[Item] = field(default_factory=list)
    checked: int = 0
    met: bool = False  # JM has met an item: its resources are offered in `!help-with`
    rng: random.Random = field(default_factory=lambda: random.Random(4))

    def marker(self, prefix: str) -> str:
        return f"{prefix}{self.rng.randrange(16**8):08x}q"


async def create(app, world: World, kind: str, level: str, origin: str) -> None:
    m = {}
    if kind == "incident":
        m = {"title": world.marker("t"), "sectors": world.marker("s")}
        command = f"!incident new severity=high tlp={level} sectors={m['sectors']} {m['title']} x"
    elif kind == "lesson":
        m = {"text": world.marker("l"), "tags": world.marker("g")}
        link = ""
        if world.items and world.rng.random() < 0.3:
            incidents = [i for i in world.items if i.kind == "incident"]
            if incidents:
                link = f" incident=INC-{world.rng.choice(incidents).number}"
        command = f"!lesson add tlp={level} tags={m['tags']}{link} {m['text']} learnt"
    else:
        m = {"description": world.marker("r")}
        command = f"!resource add kind=tool tlp={level} {m['description']} kit"
    outcome = await say(app, JM1, command, room=origin)
    if outcome.outcome != "accepted":  # a lower label than a linked incident's: refused
        assert "cannot be" in outcome.replies[0].message.body
        return
    body = outcome.replies[0].message.body  # "INC-3 [TLP:RED] ...", "LL-2 shared ... [TLP:X"
    number = int(re.search(r"\b(?:INC|LL|RS)-(\d+)", body).group(1))
    stored = re.search(r"\[TLP:([A-Z+]+)", body).group(1).lower()  # a lesson may inherit
    world.items.append(Item(kind, number, stored, origin, m))


def meet_all(app) -> None:
    for spot in ROOMS:
        app.test_rooms.set(
            spot.room_id, spot.members, encrypted=spot.encrypted, public=spot.public
        )


def outputs(outcome) -> str:
    parts = []
    for reply in outcome.replies:
        parts += [reply.message.body, reply.message.html]
        parts += [json.dumps(spec.data) for spec in reply.files]
    return "\n".join(parts)


def leaks(world: World, room: Room, text: str) -> list[str]:
    """The markers in `text` the room may not see."""
    found = []
    for item in world.items:
        for name, marker in item.markers.items():
            if marker not in text:
                continue
            allowed = room.sees_in_full(item.level, item.origin) or (
                name == "title" and room.sees_title(item.level, item.origin)
            )
            if not allowed:
                found.append(f"{item.kind} {item.number} [{item.level}] {name}")
        world.checked += len(item.markers)
    return found


def reads(world: World, rng: random.Random) -> list[str]:
    """Every read command, with filters and searches aimed at the items' markers."""
    commands = ["!incident list", "!incident list all", "!lesson list", "!resource list"]
    # Who can help names the resources of the countries that met an item, in the list and
    # in the gap analysis report (a file).
    commands += ["!help-with legal.strategy TT", "!gaps TT report=yes"]
    for item in rng.sample(world.items, min(4, len(world.items))):
        words = list(item.markers.values())
        if item.kind == "incident":
            commands += [f"!incident show INC-{item.number}", "!incident list all severity=high"]
        elif item.kind == "lesson":
            commands += [f"!lesson show LL-{item.number}", f"!lesson search {words[0]}"]
            commands += [f"!lesson list tag={item.markers['tags']}"]
        else:
            commands += [f"!resource search {words[0]}"]
    return commands


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    new=st.lists(
        st.tuples(
            st.sampled_from(["incident", "lesson", "resource"]),
            st.sampled_from(LEVELS),
            st.sampled_from(ORIGINS),
        ),
        min_size=1,
        max_size=3,
    ),
    room=st.sampled_from(ROOMS),
    seed=st.integers(0, 2**16),
)
async def test_no_output_shows_what_its_audience_may_not_see(app, new, room, seed):
    world = ORACLE.setdefault(id(app), World())
    for spot in ROOMS:
        app.test_rooms.set(
            spot.room_id, spot.members, encrypted=spot.encrypted, public=spot.public
        )
    if not world.met:
        await say(app, JM1, "!status set legal.strategy met")
        world.met = True
    for kind, level, origin in new:
        await create(app, world, kind, level, origin)
    rng = random.Random(seed)
    for command in [*reads(world, rng), "!digest"]:
        outcome = await say(app, room.asker, command, room=room.room_id)
        if outcome is None or outcome.outcome != "accepted":
            continue
        said = outputs(outcome)
        for word in command.split()[1:]:  # what the asker typed may be quoted back
            said = said.replace(word.split("=")[-1], "")
        assert not leaks(world, room, said), (room.name, command)
    # A search never tells whether a withheld item matched: it answers as for a word
    # nothing contains.
    for item in world.items:
        if item.kind != "incident" and not room.sees_in_full(item.level, item.origin):
            family = "lesson" if item.kind == "lesson" else "resource"
            word = next(iter(item.markers.values()))
            hit = await say(app, room.asker, f"!{family} search {word}", room=room.room_id)
            miss = await say(app, room.asker, f"!{family} search zz{word}", room=room.room_id)
            assert outputs(hit).replace(word, "W") == outputs(miss).replace(f"zz{word}", "W")
            break


ORACLE: dict[int, World] = {}


async def test_the_offline_export_shows_the_steering_committee_only_its_share(app, clock):
    world = World(rng=random.Random(9))
    for spot in ROOMS:
        app.test_rooms.set(
            spot.room_id, spot.members, encrypted=spot.encrypted, public=spot.public
        )
    for level in LEVELS:
        for kind in ("incident", "lesson", "resource"):
            await create(app, world, kind, level, ORIGINS[0])
    file_readers = Room("a file for the Steering Committee", "", frozenset({STEERING}), STEERING)
    async with app.db.unit(write=False) as store:
        data = await build(
            store, digest_period("last-30d", app.env), env=app.env, config=app.sections,
            committee="RCC", now=clock(), viewer=Viewer(FILE_AUDIENCES["steering"]),
        )  # fmt: skip
    html = render_file(app.renderer, "digest-html", data).decode()
    png = render_file(app.renderer, "digest-png", data)
    for output in (html, json.dumps(data), png.decode("latin-1")):
        assert not leaks(world, file_readers, output)
    shown = [i for i in world.items if file_readers.sees_in_full(i.level, i.origin)]
    assert shown and all(i.markers[next(iter(i.markers))] in html for i in shown)
    assert data["label"] == "TLP:AMBER"  # AMBER titles are its most restrictive content
