"""Need-to-know: who can read an output, and what of each item they may see. The one rule.

The audience of an output is everyone who can read it: the room's joined *and* invited
members (keys are shared with invited people too), whether the room is encrypted, whether it
is public or lets people in without an invitation, and each member's roster role, taken when
the output is sent. Its clearance is that of its least trusted reader:

| clearance | who can read                                                          |
|-----------|-----------------------------------------------------------------------|
| CHAIR     | the chair alone, in a DM (contact details are for the chair's eyes)   |
| RCC       | only NCPOCs and the chair, in an encrypted room (or a DM with one)      |
| STEERING  | only roster members, some of them outside the RCC (steering, admins)  |
| OUTSIDER  | someone not on the roster, anyone by knocking, or the homeserver        |
| PUBLIC    | anyone at all (a public room, world-readable history)                 |

A record people wrote also names who heard it: the people in the room when it was said (and
anyone the poster named with `for=`). They may read it in full wherever only they read; for
TLP:RED ("for the eyes and ears of individual recipients only") nobody else may, so a later
joiner sees only its label.

`show` says how much of one labelled item an audience sees; aggregates and search matches
come only from items it sees in full; the rest add to one bare total at most. What an output
shows is sealed (`Seal`): its strictest label, the least clearance its readers must have, and
the people it is bound to; the sender admits it into a room only if the room's readers now
still fit (`admits`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING

from commands.framework import Role
from commands.values import CHROME, Clearance, RoomFacts, Seal
from storage.lists import pack, unpack
from storage.visibility import InFull

__all__ = [
    "CHROME",
    "PRIVATE",
    "Audience",
    "Seal",
    "Show",
    "Viewer",
    "admits",
    "audience_for",
    "heard_by",
    "hearers",
    "needs",
    "sealed",
    "strictest",
]

if TYPE_CHECKING:
    from storage.stores import Stores


class Show(IntEnum):
    """How much of an item an audience sees."""

    NOTHING = 0  # not at all: it adds to a bare total of withheld items
    LABEL = 1  # its ID, label (and an incident's severity): "details withheld"
    TITLE = 2  # also its title (AMBER for the Steering Committee)
    FULL = 3


def _up(rcc: Show, steering: Show, outsider: Show, public: Show) -> dict[Clearance, Show]:
    return {
        Clearance.CHAIR: rcc,
        Clearance.RCC: rcc,
        Clearance.STEERING: steering,
        Clearance.OUTSIDER: outsider,
        Clearance.PUBLIC: public,
    }


# The rule, label by label: what each clearance sees. RED in full needs its people too.
RULE: dict[str, dict[Clearance, Show]] = {
    "clear": _up(Show.FULL, Show.FULL, Show.FULL, Show.FULL),
    "green": _up(Show.FULL, Show.FULL, Show.FULL, Show.LABEL),
    "amber": _up(Show.FULL, Show.TITLE, Show.NOTHING, Show.NOTHING),
    "amber+strict": _up(Show.FULL, Show.NOTHING, Show.NOTHING, Show.NOTHING),
    "red": _up(Show.LABEL, Show.LABEL, Show.NOTHING, Show.NOTHING),  # FULL for its people
}


def reader(roles: Iterable[str] | None) -> Clearance:
    """One reader's clearance from their roster roles (None: not on the roster)."""
    if roles is None:
        return Clearance.OUTSIDER
    held = set(roles)
    if Role.CHAIR in held:
        return Clearance.CHAIR
    if Role.NCPOC in held:
        return Clearance.RCC
    if held <= {Role.CONTACT}:  # a national contact is not on the committee: an outsider
        return Clearance.OUTSIDER  # to its records (a broadcast is sent to them by name)
    return Clearance.STEERING


@dataclass(frozen=True)
class Audience:
    """Who can read one output, reduced to what the rule needs."""

    clearance: Clearance
    room_id: str | None = None  # None: a file written offline
    members: frozenset[str] | None = None  # its readers (None: not known, a file)
    listed: frozenset[str] = frozenset()  # of them, those on the roster now
    closed: bool = False  # encrypted, invitation only: nobody comes in unasked
    history_shared: bool = True  # new readers could read what was said before

    @classmethod
    def of(cls, facts: RoomFacts, roles: Mapping[str, Iterable[str] | None]) -> Audience:
        """A room's audience: its least trusted reader, lowered for how the room is kept."""
        closed = facts.encrypted and not facts.public and not facts.open_door
        if facts.public:
            least = Clearance.PUBLIC
        else:
            least = min((reader(roles.get(m)) for m in facts.members), default=Clearance.RCC)
        if not closed:  # the homeserver's operators, or whoever knocks, read it too
            least = min(least, Clearance.OUTSIDER)
        return cls(
            least,
            facts.room_id,
            members=facts.members,
            listed=frozenset(m for m in facts.members if roles.get(m) is not None),
            closed=closed,
            history_shared=facts.history_shared or facts.public,
        )

    def may_hear(self, level: str) -> bool:
        """Whether this audience may read in full what its readers heard, labelled `level`:
        roster members in a closed room; for TLP:RED, NCPOCs and the chair only, where a
        later joiner cannot read back."""
        if not (self.closed and self.members):
            return False
        if level == "red":
            return self.clearance >= Clearance.RCC and not self.history_shared
        return self.clearance >= Clearance.STEERING

    def heard(self, level: str, said_to: frozenset[str] | None) -> bool:
        """Whether everyone reading now heard the record said (or was named with it)."""
        return (
            said_to is not None
            and self.members is not None
            and self.members <= said_to
            and self.may_hear(level)
        )

    def in_full(self) -> InFull:
        """The rule as a query condition: the labels this audience sees in full, and the
        records its readers heard."""
        labels = frozenset(level for level, by in RULE.items() if by[self.clearance] == Show.FULL)
        heard = self.members if self.may_hear("amber") else None
        red = self.may_hear("red")
        legacy = self.room_id if red else None
        return InFull(labels, legacy, heard, heard_red=red)

    def show(
        self, level: str, origin_room: str | None = None, said_to: frozenset[str] | None = None
    ) -> Show:
        """How much of an item labelled `level` — said in `origin_room` to `said_to` — this
        audience sees. A record from before people were recorded with it (said_to None):
        TLP:RED in full in its own room only, as the rule was then."""
        if self.heard(level, said_to):
            return Show.FULL
        if level == "red" and said_to is None and self._legacy_red(origin_room):
            return Show.FULL
        return RULE[level][self.clearance]

    def _legacy_red(self, origin_room: str | None) -> bool:
        return origin_room is not None and origin_room == self.room_id and self.may_hear("red")


def needs(level: str, shown: Show) -> Clearance:
    """The least clearance a room must still have for an output showing an item labelled
    `level` this much: checked again when the message is sent."""
    if shown == Show.NOTHING:
        return Clearance.PUBLIC
    found = [c for c in Clearance if RULE[level][c] >= shown]
    return min(found) if found else Clearance.RCC  # RED in full: bound to its people too


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


def heard_by(record: object) -> frozenset[str] | None:
    """Who heard a record said (`said_to`); None for one kept before that was recorded."""
    said = getattr(record, "said_to", None)
    return frozenset(unpack(said)) if said is not None else None


def hearers(audience: Audience, named: Iterable[str] = ()) -> str:
    """What a new record keeps of who heard it: the readers of its room now, and anyone its
    poster named (`for=`), packed for its `said_to` column."""
    return pack(sorted({*(audience.members or ()), *named}))


def sealed(level: str, said_to: frozenset[str] | None = None) -> Seal:
    """The seal of an output showing one record labelled `level` in full: for TLP:RED, only
    to the people who heard it (nobody, when they are not known)."""
    if level == "red":
        return Seal("red", Clearance.RCC, said_to or frozenset())
    return Seal(level, needs(level, Show.FULL))


def strictest(*seals: Seal) -> Seal:
    """One seal for an output that shows what each of these shows."""
    order = list(RULE)
    label = max((s.label for s in seals), key=order.index, default="clear")
    bound = [s.bound_to for s in seals if s.bound_to is not None]
    people = frozenset.intersection(*bound) if bound else None
    return Seal(label, max((s.needs for s in seals), default=Clearance.PUBLIC), people)


PRIVATE = Seal("amber+strict", Clearance.CHAIR)  # contact details: the chair's eyes only


def admits(seal: Seal, audience: Audience, *, only: str | None = None) -> bool:
    """Whether an output sealed so may reach this audience now. `only`: it is addressed to
    one person (their DM), who must be its one reader and still on the roster."""
    if audience.clearance < seal.needs:
        return False
    if seal.bound_to is not None:
        readers = audience.members or frozenset()
        if not (audience.closed and readers and readers <= seal.bound_to):
            return False
        if seal.label == "red" and audience.history_shared:
            return False
    if only is not None:
        return audience.closed and audience.members == {only} and only in audience.listed
    return True


@dataclass
class Viewer:
    """An audience, and what it was shown so far: the least clearance that still needs, the
    labels of what it showed, and the people it is bound to."""

    audience: Audience
    needs: Clearance = Clearance.PUBLIC
    shown: set[str] = field(default_factory=set)  # labels of content shown (title or full)
    bound_to: frozenset[str] | None = None

    def sees(
        self, level: str, origin_room: str | None = None, said_to: frozenset[str] | None = None
    ) -> Show:
        shown = self.audience.show(level, origin_room, said_to)
        by_rule = RULE[level][self.audience.clearance]
        if shown > by_rule:  # in full because its readers heard it: bound to them
            people = said_to if said_to is not None else self.audience.members
            if people is not None:
                self.bound_to = people if self.bound_to is None else self.bound_to & people
            self.needs = max(self.needs, needs(level, by_rule))
        else:
            self.needs = max(self.needs, needs(level, shown))
        if shown >= Show.TITLE:
            self.shown.add(level)
        return shown

    def in_full(
        self, level: str, origin_room: str | None = None, said_to: frozenset[str] | None = None
    ) -> bool:
        """Whether an item may be shown in full here; counted as shown only if it may (an
        item left out entirely leaves no trace on the output's label)."""
        if self.audience.show(level, origin_room, said_to) != Show.FULL:
            return False
        self.sees(level, origin_room, said_to)
        return True

    def label(self) -> str | None:
        """The most restrictive label of what was shown, for an output to carry."""
        order = list(RULE)
        return max(self.shown, key=order.index) if self.shown else None

    def seal(self) -> Seal:
        return Seal(self.label() or "clear", self.needs, self.bound_to)

    def private(self) -> None:
        """Contact details are shown: for the chair alone."""
        self.needs = max(self.needs, Clearance.CHAIR)

    def may_post(self, level: str) -> bool:
        """Content labelled `level` may be posted here: the room may see it in full (TLP:RED
        only where later joiners cannot read back)."""
        if level == "red":
            return self.audience.clearance >= Clearance.RCC and not self.audience.history_shared
        return RULE[level][self.audience.clearance] == Show.FULL


# Who a file written offline is for, unless an option names another audience.
FILE_AUDIENCES = {
    "steering": Audience(Clearance.STEERING),
    "rcc": Audience(Clearance.RCC),
}
