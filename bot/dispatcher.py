"""Runs one incoming message as a command: parse, check the role, handle, audit, reply.

Each command is one unit of work: its changes, the processed-event mark, its audit entry and
its replies commit together, so a command is handled exactly once. A rejected command rolls
its changes back and records only the refusal.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.logs import log_failure
from bot.rendering import Message, Renderer
from commands.framework import (
    ArgumentError,
    Command,
    CommandError,
    Context,
    FileSpec,
    ParseEnv,
    Refused,
    Reply,
    Router,
    Settings,
    View,
    role_titles,
)
from commands.parsing import Found, Registry, UnknownCommand, find
from storage.db import Database
from storage.events import AlreadyHandled
from storage.roster import Member
from storage.stores import Stores

log = logging.getLogger(__name__)

ACCEPTED, REFUSED, INVALID, FAILED = "accepted", "refused", "invalid", "failed"


@dataclass(frozen=True)
class Incoming:
    """A message as the Matrix layer hands it over (already decrypted)."""

    event_id: str
    room_id: str
    sender: str
    body: str
    is_direct: bool = False
    encrypted: bool = True
    room_kind: str = "rcc"  # rcc | steering | direct | other


@dataclass(frozen=True)
class Outgoing:
    """A rendered message to send, replying to the event that caused it."""

    room_id: str
    message: Message
    in_reply_to: str | None
    mentions: tuple[str, ...] = ()
    files: tuple[FileSpec, ...] = ()
    ref: str | None = None


@dataclass
class Outcome:
    """What handling one event did."""

    outcome: str
    command: str | None = None
    replies: list[Outgoing] = field(default_factory=list)
    duplicate: bool = False
    detail: str = ""  # what the audit log says of it
    outbox: list = field(default_factory=list)  # the rows the replies were written to


# Called inside the unit with the rendered replies, so they commit with the command; returns
# the outbox rows it wrote.
ReplySink = Callable[[Stores, list[Outgoing], Incoming], Awaitable[list | None]]


class Dispatcher:
    def __init__(
        self,
        *,
        routers: Iterable[Router],
        db: Database,
        env: ParseEnv,
        settings: Settings,
        renderer: Renderer,
        sink: ReplySink | None = None,
    ) -> None:
        self.registry = Registry(routers)
        self.db = db
        self.env = env
        self.settings = settings
        self.renderer = renderer
        self.sink = sink
        self.before_commit: Callable[[], None] | None = None  # fault tests crash here
        self.after_commit: Callable[[list[tuple[str, int]]], None] | None = None  # wakes jobs
        self.rooms: dict[str, str] = {}  # the configured rooms' IDs, once the Matrix side knows
        self.metrics = None  # bot.health.Metrics, when the App provides one
        self.bot_info: dict[str, str] = {}  # the bot's device and master key, once known

    async def handle(self, msg: Incoming) -> Outcome | None:
        """Handle one message; None when it is not a command."""
        started = time.perf_counter()
        outcome = await self._handle(msg)
        if outcome is not None and not outcome.duplicate and self.metrics is not None:
            self.metrics.commands.labels(outcome.command or "unknown", outcome.outcome).inc()
            self.metrics.latency.observe(time.perf_counter() - started)
        return outcome

    async def _handle(self, msg: Incoming) -> Outcome | None:
        now = self.env.now()
        try:
            found = find(msg.body, self.registry, self.settings.prefix)
        except ArgumentError as exc:
            return await self._reject(msg, now, None, exc, INVALID)
        if found is None:
            return None
        command = found.command
        try:
            return await self._run(msg, now, found)
        except Refused as exc:
            return await self._reject(msg, now, command, exc, REFUSED)
        except CommandError as exc:
            return await self._reject(msg, now, command, exc, INVALID)
        except _Duplicate:
            return Outcome(ACCEPTED, command.name, duplicate=True)
        except Exception as exc:  # a bug must not stop the bot; logged without user text
            _log_failure(msg, command, exc)
            return await self._reject(msg, now, command, exc, FAILED)

    async def _run(self, msg: Incoming, now: datetime, found: Found) -> Outcome:
        command = found.command
        async with self.db.unit() as store:
            # Claimed first: a duplicate stops here, and every rollback below un-claims it.
            try:
                await store.events.claim(
                    event_id=msg.event_id,
                    room_id=msg.room_id,
                    sender=msg.sender,
                    outcome=ACCEPTED,
                    now=now,
                )
            except AlreadyHandled:
                raise _Duplicate from None
            ctx = self._context(msg, now, store, await store.roster.member(msg.sender), command)
            # The role is checked before the arguments are read: a stranger learns nothing.
            if not command.allows(ctx.roles):
                raise Refused(_refusal(command, ctx.member))
            result = await command.handler(ctx, **found.bind(self.env))
            if result is not None:
                await ctx.reply(result)
            outcome = await self._finish(store, msg, now, command.name, ACCEPTED, ctx, marked=True)
        if ctx.wakes and self.after_commit is not None:
            self.after_commit(ctx.wakes)
        return outcome

    async def handle_action(
        self, msg: Incoming, action: str, handler: Callable[[Context], Awaitable[object]]
    ) -> Outcome | None:
        """Run a non-command action (an acknowledgement by reply or reaction) exactly once.

        Only roster members' events are considered; when the handler returns None nothing is
        recorded at all, so everyday chatter costs one read.
        """
        now = self.env.now()
        async with self.db.unit() as store:
            if await store.events.seen(msg.event_id):
                return None
            member = await store.roster.member(msg.sender)
            if member is None:
                return None
            ctx = self._context(msg, now, store, member, None)
            result = await handler(ctx)
            if result is None:
                return None
            await ctx.reply(result)
            return await self._finish(store, msg, now, action, ACCEPTED, ctx)

    async def _reject(
        self,
        msg: Incoming,
        now: datetime,
        command: Command | None,
        exc: Exception,
        outcome: str,
    ) -> Outcome:
        async with self.db.unit() as store:
            if await store.events.seen(msg.event_id):
                return Outcome(outcome, command.name if command else None, duplicate=True)
            ctx = self._context(msg, now, store, None, command)
            await ctx.reply(self._error_text(command, exc, outcome))
            # A refusal names only the command and roles; an argument error can quote what
            # was typed (possibly TLP:RED text), so only its kind is kept.
            if outcome == REFUSED:
                ctx.audit_detail = getattr(exc, "message", "")
            elif outcome == INVALID:
                ctx.audit_detail = type(exc).__name__
            return await self._finish(
                store, msg, now, command.name if command else "unknown", outcome, ctx
            )

    async def _finish(
        self,
        store: Stores,
        msg: Incoming,
        now: datetime,
        action: str,
        outcome: str,
        ctx: Context,
        *,
        marked: bool = False,
    ) -> Outcome:
        if not marked:
            await store.events.mark(
                event_id=msg.event_id,
                room_id=msg.room_id,
                sender=msg.sender,
                outcome=outcome,
                now=now,
            )
        await store.audit.record(
            actor=msg.sender,
            action=action,
            outcome=outcome,
            now=now,
            room_id=msg.room_id,
            event_id=msg.event_id,
            detail=ctx.audit_detail,
        )
        replies = [self._render(r, msg) for r in ctx.replies]
        rows = (await self.sink(store, replies, msg) or []) if self.sink is not None else []
        if self.before_commit is not None:
            self.before_commit()
        return Outcome(outcome, action, replies, detail=ctx.audit_detail, outbox=rows)

    def _context(
        self,
        msg: Incoming,
        now: datetime,
        store: Stores,
        member: Member | None,
        command: Command | None,
    ) -> Context:
        return Context(
            sender=msg.sender,
            room_id=msg.room_id,
            event_id=msg.event_id,
            member=member,
            store=store,
            env=self.env,
            settings=self.settings,
            now=now,
            command=command,
            commands=self.registry,
            is_direct=msg.is_direct,
            encrypted=msg.encrypted,
            room_kind=msg.room_kind,
            rooms=self.rooms,
            bot_info=self.bot_info,
        )

    def _render(self, reply: Reply, msg: Incoming) -> Outgoing:
        room = reply.room_id or msg.room_id
        return Outgoing(
            room_id=room,
            message=self.renderer.render(reply.content),
            in_reply_to=msg.event_id if room == msg.room_id else None,
            mentions=reply.mentions,
            files=reply.files,
            ref=reply.ref,
        )

    def _error_text(self, command: Command | None, exc: Exception, outcome: str) -> str | View:
        prefix = self.settings.prefix
        if outcome == FAILED:
            return (
                "⚠️ Something went wrong on the bot's side while handling this command; "
                "nothing was changed. The operators have the details in the bot's log."
            )
        message = getattr(exc, "message", str(exc))
        if outcome == REFUSED:
            return f"⛔ {message}"
        if command is None or isinstance(exc, UnknownCommand):
            return f"⚠️ {message}"
        return View(
            "errors/usage",
            {
                "message": message,
                "usage": command.usage(prefix),
                "example": command.example,
                "help": f"{prefix}help {command.name}",
            },
        )


class _Duplicate(Exception):
    """The event was already handled by a committed unit."""


def _refusal(command: Command, member: Member | None) -> str:
    allowed = role_titles(command.roles or ())
    if member is None:
        return (
            f"!{command.name} is for roster members ({allowed}); you are not on the roster. "
            "Ask the RCC chair to add you."
        )
    return f"!{command.name} is for: {allowed}; you are {role_titles(member.roles)}."


def _log_failure(msg: Incoming, command: Command, exc: Exception) -> None:
    log_failure(log, f"command {command.name} for event {msg.event_id}", exc)
