"""What the Matrix side asks of the rest of the bot, as protocols.

The Matrix side keeps a few values of its own across restarts (the sync token, the pinned
rooms, the DMs it opened), keeps the events it cannot read yet, reports what it sees of rooms
and invites, hands each readable event over as a neutral `Input`, and sends what the outbox
holds. It does so through these ports only: the core implements them over storage
(`bot/ledger.py`) and decides what each fact means to the committee (who may invite the bot,
who is told an event was unreadable, which room change the chair hears of). The Matrix side
imports no storage and no domain; `tests/test_declarations.py` keeps it so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Protocol


class Admission(Enum):
    """The gate's word on a message about to be sent, checked against its room's readers."""

    SEND = "send"
    REFUSE = "refuse"  # its room's readers, now, may not read what it shows
    FRESH_DM = "fresh dm"  # a person's DM has someone else in it: open them a fresh one


class Queued(Protocol):
    """A message waiting in the outbox, as the sender sees it."""

    txn_id: str
    room_id: str | None  # None: the DM of `to_user`, opened when it is sent
    to_user: str | None
    event_type: str
    kind: str  # "message", or "file": content names a renderer and its data
    ref: str | None
    content: str  # JSON
    report_to: str | None
    # Its seal, which the core's gate (`admits`) checks against the room's readers at send time.
    label: str
    bound_to: str | None
    needs: int

    @property
    def key(self) -> int: ...


class Arrivals(Protocol):
    """Outbox rows just committed, on their way to the sender."""

    ready: asyncio.Event

    def take(self) -> Sequence[Queued]: ...


class Deliveries(Protocol):
    """The outbox's record of each send."""

    async def pending(self, limit: int) -> Sequence[Queued]: ...

    async def mark_sent(self, marks: list[tuple[int, str, datetime]]) -> None: ...

    async def note_attempt(self, key: int, error: str) -> None: ...

    async def set_room(self, key: int, room_id: str) -> None: ...

    async def mark_failed(self, key: int, error: str) -> None: ...


@dataclass(frozen=True)
class RoomChange:
    """Something that happened to a committee room, for the core to make known:
    `what` is "alias_moved", "room_upgraded", "room_followed" or "room_widened"."""

    what: str
    data: dict[str, Any]


class Memory(Protocol):
    """Small values kept across restarts, each write in its own transaction."""

    async def recall(self, key: str) -> str | None: ...

    async def keep(self, key: str, value: str, *, change: RoomChange | None = None) -> None:
        """Keep the value; a room change given is recorded with it, in the same
        transaction, and made known once it commits."""
        ...

    async def direct_room(self, user_id: str) -> str | None: ...

    async def set_direct_room(self, user_id: str, room_id: str) -> None: ...


class People(Protocol):
    """Whom the committee knows: only their invites are accepted, and only their
    unreadable events are worth a key request."""

    async def knows(self, user_id: str) -> bool: ...


class Profiles(Protocol):
    """Whose Matrix profiles the core wants read, and what they say (bot.matrix.profiles)."""

    async def wanted(self) -> list[str]: ...

    async def zones(self, zones: dict[str, str | None]) -> None:
        """Each person's own time zone as their profile gives it (None: it gives none);
        people whose profile could not be read are left out."""
        ...


@dataclass(frozen=True)
class Unreadable:
    """An encrypted event kept until its key arrives."""

    event_id: str
    room_id: str
    sender: str
    session_id: str
    source: str  # the event as received, JSON
    first_seen: datetime
    notified_at: datetime | None


class UnreadableKeep(Protocol):
    """The encrypted events waiting for their keys; and the telling of their senders."""

    async def count(self, sender: str | None = None) -> int: ...

    async def hold(self, event: Unreadable) -> None:
        """Keep the event (once: holding it again changes nothing)."""
        ...

    async def all(self) -> list[Unreadable]: ...

    async def forget(self, done: list[str], covered: list[str]) -> None:
        """Drop the `done` events; mark `covered` ones as told (their session was)."""
        ...

    async def tell(self, events: list[Unreadable]) -> None:
        """Tell the senders of these events, one per key session, as the committee's policy
        allows; every event given counts as told afterwards."""
        ...


class Invites(Protocol):
    async def invited(self, room_id: str, inviter: str | None, joined: bool) -> None:
        """An invite was answered (joined or declined): recorded by the core."""
        ...


class Jobs(Protocol):
    """The core's jobs: started after the first sync, stopped with the bot."""

    async def start(self, started_at: datetime) -> None: ...

    async def stop(self) -> None: ...
