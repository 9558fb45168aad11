"""Need-to-know: who can read an output, and what of each item they may see. The one rule.

The audience of an output is everyone who can read it: the room's joined *and* invited
members (keys are shared with invited people too), whether the room is encrypted, whether it
is public, and each member's roster role, taken when the output is written. Its clearance is
that of its least trusted reader:

| clearance | who can read                                                          |
|-----------|-----------------------------------------------------------------------|
| RCC       | only NCPOCs and the chair, in an encrypted room (or a DM with one)      |
| STEERING  | only roster members, some of them outside the RCC (steering, admins)  |
| OUTSIDER  | someone not on the roster, or anyone via the homeserver (unencrypted) |
| PUBLIC    | anyone at all (a public room, world-readable history)                 |

`show` says how much of one labelled item that audience sees; aggregates and search matches
come only from items it sees in full; the rest add to one bare total at most.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING

from commands.framework import Role
from commands.values import Clearance, RoomFacts
from storage.visibility import InFull

if TYPE_CHECKING:
    from storage.stores import Stores


class Show(IntEnum):
    """How much of an item an audience sees."""

    NOTHING = 0  # not at all: it adds to a bare total of withheld items
    LABEL = 1  # its ID, label (and an incident's severity): "details withheld"
    TITLE = 2  # also its title (AMBER for the Steering Committee)
    FULL = 3


# The rule, label by label: what each clearance sees. RED in full needs its origin room too.
RULE: dict[str, dict[Clearance, Show]] = {
    "clear": dict.fromkeys(Clearance, Show.FULL),
    "green": {
        Clearance.PUBLIC: Show.LABEL,
        Clearance.OUTSIDER: Show.FULL,
        Clearance.STEERING: Show.FULL,
        Clearance.RCC: Show.FULL,
    },
    "amber": {
        Clearance.PUBLIC: Show.NOTHING,
        Clearance.OUTSIDER: Show.NOTHING,
        Clearance.STEERING: Show.TITLE,
        Clearance.RCC: Show.FULL,
    },
    "amber+strict": {
        Clearance.PUBLIC: Show.NOTHING,
        Clearance.OUTSIDER: Show.NOTHING,
        Clearance.STEERING: Show.NOTHING,
        Clearance.RCC: Show.FULL,
    },
    "red": {
        Clearance.PUBLIC: Show.NOTHING,
        Clearance.OUTSIDER: Show.NOTHING,
        Clearance.STEERING: Show.LABEL,
        Clearance.RCC: Show.LABEL,  # FULL in its origin room only
    },
}


def reader(roles: Iterable[str] | None) -> Clearance:
    """One reader's clearance from their roster roles (None: not on the roster)."""
    if roles is None:
        return Clearance.OUTSIDER
    held = set(roles)
    if held & {Role.NCPOC, Role.CHAIR}:
        return Clearance.RCC
    if held <= {Role.CONTACT}:  # a national contact is not on the committee: an outsider
        return Clearance.OUTSIDER  # to its records (a broadcast is sent to them by name)
    return Clearance.STEERING


@dataclass(frozen=True)
class Audience:
    """Who can read one output, reduced to what the rule needs."""

    clearance: Clearance
    room_id: str | None = None  # None: a file written offline

    @classmethod
    def of(cls, facts: RoomFacts, roles: Mapping[str, Iterable[str] | None]) -> Audience:
        """A room's audience: its least trusted reader, lowered for how the room is kept."""
        if facts.public:
            return cls(Clearance.PUBLIC, facts.room_id)
        least = min((reader(roles.get(m)) for m in facts.members), default=Clearance.RCC)
        if not facts.encrypted:  # the homeserver's operators read it too
            least = min(least, Clearance.OUTSIDER)
        return cls(least, facts.room_id)

    def in_full(self) -> InFull:
        """The rule as a query condition: the labels this audience sees in full."""
        labels = frozenset(level for level, by in RULE.items() if by[self.clearance] == Show.FULL)
        return InFull(labels, self.room_id if self.clearance == Clearance.RCC else None)

    def show(self, level: str, origin_room: str | None = None) -> Show:
        """How much of an item labelled `level`, posted in `origin_room`, this audience sees."""
        if level == "red" and self.clearance == Clearance.RCC and origin_room == self.room_id:
            return Show.FULL
        return RULE[level][self.clearance]


def needs(level: str, shown: Show) -> Clearance:
    """The least clearance a room must still have for an output showing an item labelled
    `level` this much: checked again when the message is sent."""
    if shown == Show.NOTHING:
        return Clearance.PUBLIC
    return min(c for c in Clearance if RULE[level][c] >= shown or _red_in_origin(level, c))


def _red_in_origin(level: str, clearance: Clearance) -> bool:
    return level == "red" and clearance == Clearance.RCC


async def audience_for(store: Stores, facts: RoomFacts | None, room_id: str) -> Audience:
    """A room's audience now: its members' roles read from the roster. A room the bot
    knows nothing of is treated as read by outsiders."""
    if facts is None:
        return Audience(Clearance.OUTSIDER, room_id)
    roles = {}
    for user in facts.members:
        member = await store.roster.member(user)
        roles[user] = member.roles if member else None
    return Audience.of(facts, roles)


@dataclass
class Viewer:
    """An audience, and the least clearance what it was shown so far still needs."""

    audience: Audience
    needs: Clearance = Clearance.PUBLIC
    shown: set[str] = field(default_factory=set)  # labels of content shown (title or full)

    def sees(self, level: str, origin_room: str | None = None) -> Show:
        shown = self.audience.show(level, origin_room)
        self.needs = max(self.needs, needs(level, shown))
        if shown >= Show.TITLE:
            self.shown.add(level)
        return shown

    def label(self) -> str | None:
        """The most restrictive label of what was shown, for an output to carry."""
        order = list(RULE)
        return max(self.shown, key=order.index) if self.shown else None

    def may_post(self, level: str) -> bool:
        """Content labelled `level` may be posted here: the room may see it in full."""
        return self.audience.show(level, self.audience.room_id) == Show.FULL


# Who a file written offline is for, unless an option names another audience.
FILE_AUDIENCES = {
    "steering": Audience(Clearance.STEERING),
    "rcc": Audience(Clearance.RCC),
}
