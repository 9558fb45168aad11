"""Values that recur in every layer, each with one type and one formatter: the kinds of room,
the short IDs people type (`INC-12`) and the references that tie a message to its record
(`broadcast:3`)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum, StrEnum


class RoomKind(StrEnum):
    """What a room is to the committee: it decides what may be shown there."""

    RCC = "rcc"
    STEERING = "steering"
    DIRECT = "direct"
    OTHER = "other"


class Clearance(IntEnum):
    """Who can read a room, by its least trusted reader (see commands.audience)."""

    PUBLIC = 0  # anyone at all: a public room, world-readable history
    OUTSIDER = 1  # someone not on the roster, or the homeserver (an unencrypted room)
    STEERING = 2  # roster members only, some outside the RCC (steering, admins)
    RCC = 3  # NCPOCs and the chair only, in an encrypted room
    CHAIR = 4  # the chair alone (a DM): contact details are for the chair's eyes


class ShortId(StrEnum):
    """The prefix of a record's short ID; `ShortId.INC.of(12)` is `INC-12`."""

    INC = "INC"  # incident
    LL = "LL"  # lesson learnt
    RS = "RS"  # resource
    DL = "DL"  # deadline
    BC = "BC"  # broadcast
    MO = "MO"  # motion to change the catalogue
    PR = "PR"  # project or activity
    DG = "DG"  # a digest drafted for the chair's approval
    MT = "MT"  # meeting
    AC = "AC"  # action, with an owner and a due date
    RP = "RP"  # a report delivered in a room (`!report`), which its readers give feedback on
    IN = "IN"  # a stakeholder's input to the Caribbean Stakeholders Meeting
    RQ = "RQ"  # a country's request for assistance
    OF = "OF"  # an offer answering a request

    def of(self, number: int) -> str:
        return f"{self.value}-{number}"

    def pattern(self) -> re.Pattern[str]:
        """`INC-12`, `inc12`: the prefix in any case, the dash optional."""
        return re.compile(rf"\b{self.value}-?(\d{{1,9}})\b", re.IGNORECASE)


class RefKind(StrEnum):
    BROADCAST = "broadcast"
    DEADLINE = "deadline"
    DIGEST = "digest"
    FAILURE = "failure"  # the report of a message that could not be delivered
    MOTION = "motion"
    STATUS = "status"  # the confirmation of a status update: a file in reply is its evidence
    MEETING = "meeting"
    ACTION = "action"
    HELD = "held"  # a broadcast held as a likely test: a ✅ on its notice sends it
    INCIDENT = "incident"  # an incident's alert: a file sent in reply to it is answered
    PROJECT = "project"  # a project's reminder of its target
    REPORT = "report"  # a report on its cycle (RP-n): its draft, its delivery
    REQUEST = "request"  # a request's ask: a reply "ack" to it acknowledges it
    POLL = "poll"  # a motion's poll (key: the motion's number): an answer is a vote
    ROLLCALL = "rollcall"  # a broadcast's live roll-call in the RCC room (key: its ID)


@dataclass(frozen=True)
class Ref:
    """The record a message belongs to, stored with it as `kind:key` (`broadcast:3`), so a
    reply or reaction to the message can be traced back to the record."""

    kind: RefKind
    key: int

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"

    @classmethod
    def parse(cls, text: str | None) -> Ref | None:
        kind, _sep, key = (text or "").partition(":")
        if kind not in RefKind.__members__.values() or not key.isdigit():
            return None
        return cls(RefKind(kind), int(key))


@dataclass(frozen=True)
class RoomFacts:
    """What the Matrix side knows of a room, in neutral terms."""

    room_id: str
    members: frozenset[str]  # joined and invited, the bot left out
    encrypted: bool
    public: bool  # anyone may join, or its history is world-readable
    # Who may come in without an invitation: knock and restricted rooms let people in who
    # no member chose (public is `public` above).
    open_door: bool = False
    # New members can read what was said before they came (history "shared" or
    # "world_readable"): no place for TLP:RED.
    history_shared: bool = False


@dataclass(frozen=True)
class Seal:
    """What an output shows, as the sender must know it (commands.audience): the strictest
    label of its content, the least clearance its readers must have, and — for what is shown
    in full only because its readers heard it (TLP:RED above all) — the people it may reach.
    Every message, file and email the bot writes carries one."""

    label: str = "clear"
    needs: Clearance = Clearance.PUBLIC
    bound_to: frozenset[str] | None = None


CHROME = Seal()  # the bot's own words, with no record's content in them


# Whether a Matrix user exists (their homeserver knows their profile): True, False, or None
# when it cannot be told (the homeserver is unreachable or will not say).
Exists = Callable[[str], Awaitable[bool | None]]


async def unknown_existence(_user_id: str) -> bool | None:
    return None


# Whether a user has joined a room (not only been invited): True, False, or None when the bot
# does not know the room.
Joined = Callable[[str, str], bool | None]


def unknown_membership(_user_id: str, _room_id: str) -> bool | None:
    return None


def fingerprint(key: str) -> str:
    """A key as people compare it out of band: groups of four characters."""
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))
