"""What a handler works with: `Context` for commands and listeners, `JobContext` for jobs.

Both are a `Unit`: the stores of one unit of work, the time, the config and the committee's
rooms, and what is to happen once it commits (jobs to wake, metrics to count, actions in
memory, what its audit record says). What they post is written to the outbox in that unit,
so it is sent once the unit commits, and never if it rolls back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from commands.audience import Audience, Viewer
from commands.framework import (
    BotIdentity,
    Command,
    FileSpec,
    ForPerson,
    ParseEnv,
    RawEvent,
    Reply,
    Role,
    View,
)
from commands.i18n import Deferred
from commands.sections import Sections
from commands.values import (
    Exists,
    Joined,
    Ref,
    RoomKind,
    Seal,
    unknown_existence,
    unknown_membership,
)

if TYPE_CHECKING:
    from storage.roster import Member
    from storage.stores import Stores

Wake = tuple[str, int]  # (job name, record key)
# Who can read a room now (its members, encryption, publicity and roles), by room ID.
AudienceOf = Callable[[str], Awaitable[Audience]]


@dataclass(kw_only=True)
class Unit:
    """One unit of work, for a command, a listener or a job alike."""

    store: Stores
    env: ParseEnv
    config: Sections
    now: datetime
    rooms: Mapping[RoomKind, str]  # the committee's rooms whose IDs are known
    audience_of: AudienceOf  # who can read a room, now
    joined: Joined = unknown_membership  # whether a user joined a room (their DM, say)
    audit_detail: str = ""  # what its audit record says of it
    wakes: list[Wake] = field(default_factory=list)  # jobs to run once this unit commits
    tallies: list[tuple[str, str]] = field(default_factory=list)  # (metric, label) to count
    committed: list[Callable[[], None]] = field(default_factory=list)  # once it commits

    def wake(self, job: str, key: int) -> None:
        """Ask for a job to look at a record once this unit is committed."""
        self.wakes.append((job, key))

    def tally(self, metric: str, label: str) -> None:
        """Count something in the bot's metrics once this unit commits."""
        self.tallies.append((metric, label))

    def on_commit(self, action: Callable[[], None]) -> None:
        """Do something in memory once this unit commits (never if it rolls back)."""
        self.committed.append(action)


@dataclass(kw_only=True)
class Context(Unit):
    """Everything a command handler may use: who asked, where, the stores, and `reply`."""

    sender: str
    room_id: str
    event_id: str
    member: Member | None
    identity: BotIdentity
    viewer: Viewer  # who can read this room, and what they were shown
    command: Command | None = None
    commands: Any = None  # the Registry, for !help
    lang: str = "en"  # what the answer is written in: the sender's in a DM, else the room's
    is_direct: bool = False
    encrypted: bool = True
    room_kind: RoomKind = RoomKind.RCC
    device_id: str | None = None  # the device the command came from
    master_key: str | None = None  # its owner's master key, when they cross-signed it
    thread: str | None = None  # the thread its answers go in (where it was typed, or a record's)
    identity_trusted: bool = True  # False while a changed identity awaits the chair
    device_counts: bool = True  # commands from this device are obeyed
    exists: Exists = unknown_existence  # asks the homeserver whether a user exists
    replies: list[Reply] = field(default_factory=list)

    @property
    def roles(self) -> frozenset[str]:
        return self.member.roles if self.member else frozenset()

    def has_role(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)

    async def in_thread_of(self, ref: Ref) -> None:
        """Answer in the thread of a record's first message in this room (an incident's
        alert, a meeting's agenda or the start of its minutes), when it was sent here: the
        room's timeline keeps the alerts and summaries, the thread the rest."""
        sent = await self.store.outbox.first_sent(str(ref), self.room_id)
        if sent is not None and sent.event_id:
            self.thread = sent.event_id

    async def reply(
        self,
        content: str | View | ForPerson | Deferred | RawEvent,
        *,
        mentions: Iterable[str] = (),
        room_id: str | None = None,
        files: Iterable[FileSpec] = (),
        ref: Ref | None = None,
        seal: Seal | None = None,
        alert: bool = False,
        to_user: str | None = None,
        edits: str | None = None,
    ) -> None:
        """Queue a message; it is sent after this command's changes are committed.

        It carries what it shows (`seal`): by default what this command's viewer was shown;
        one for another room is sealed with that room's viewer. Should a reply not be
        delivered, the person who asked is told.
        """
        report = (self.sender,)
        # An answer here is in this conversation's language; elsewhere, the recipient's.
        lang = self.lang if room_id in (None, self.room_id) and to_user is None else None
        self.replies.append(
            Reply(
                content,
                tuple(mentions),
                room_id,
                tuple(files),
                ref,
                report_to=report,
                seal=seal,
                alert=alert,
                to_user=to_user,
                lang=lang,
                edits=edits,
            )
        )


# Writes one message to the outbox in the job's unit; returns the first row written.
Write = Callable[["Stores", Reply], Awaitable[Any]]
# Writes one email (to, subject, body view, ref, who to tell of a refusal, seal, files) to
# the outbox.
WriteEmail = Callable[
    ["Stores", str, str, View, "str | None", tuple[str, ...], Seal, tuple[FileSpec, ...]],
    Awaitable[Any],
]


async def _no_email(*_args: Any) -> Any:
    raise RuntimeError("this job runner sends no email")


@dataclass(kw_only=True)
class JobContext(Unit):
    """Everything a job may use: the stores of its unit of work, the time, reference data,
    the committee's rooms, and `post` to say something in a room or to a person."""

    started_at: datetime  # when this run of the bot began: what fell due before was missed
    write: Write
    write_email: WriteEmail = _no_email
    _chairs: tuple[str, ...] | None = None

    async def email(
        self, to: str, subject: str, body: View, *, seal: Seal, ref: Ref | None = None,
        files: Iterable[FileSpec] = (),
    ) -> Any:  # fmt: skip
        """Send an email (plain text from `body`, `files` attached) once this unit commits;
        returns its outbox row. Only where the config has an SMTP server
        (`config.mail`), and never with more than GREEN in it (`seal`)."""
        tag = str(ref) if ref else None
        chairs = await self.chairs()
        return await self.write_email(
            self.store, to, subject, body, tag, chairs, seal, tuple(files)
        )

    async def post(
        self,
        content: str | View | ForPerson | Deferred | RawEvent,
        *,
        room_id: str | None = None,
        to_user: str | None = None,
        mentions: Iterable[str] = (),
        files: Iterable[FileSpec] = (),
        ref: Ref | None = None,
        seal: Seal,
        report: bool = True,
        alert: bool = False,
        edits: str | None = None,
    ) -> Any:
        """Say something in a room or to a person (in the bot's DM with them), sealed with
        what it shows (`CHROME` for the bot's own words): nothing is written unsealed.
        `edits`: the event it replaces (m.replace), one the bot sent in that room.
        Returns the outbox row; should the homeserver refuse it for good, the chair is told
        (unless `report` is False: a report of a refusal is not reported again)."""
        if (room_id is None) == (to_user is None):
            raise ValueError("post to a room or to a person, not both")
        reply = Reply(
            content,
            tuple(mentions),
            room_id,
            tuple(files),
            ref,
            to_user=to_user,
            report_to=await self.chairs() if report else (),
            seal=seal,
            alert=alert,
            edits=edits,
        )
        return await self.write(self.store, reply)

    async def chairs(self) -> tuple[str, ...]:
        if self._chairs is None:
            entries = await self.store.roster.entries()
            self._chairs = tuple(e.user_id for e in entries if e.role == Role.CHAIR)
        return self._chairs
