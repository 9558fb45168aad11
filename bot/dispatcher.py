"""Runs one input: a command (parse, check the role, handle, audit, reply) or, for replies and
reactions, the families' listeners.

Each is one unit of work: its changes, the processed-event mark, its audit entry and its
replies commit together, so an event is handled exactly once. A rejected command rolls its
changes back and records only the refusal. Once the unit commits, its replies go to the
sender and the jobs it woke are run.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.faults import CrashPoints
from bot.flood import Floods, Verdict
from bot.logs import log_failure
from bot.metrics import Metrics
from bot.outbox import OutboxWriter, Outgoing
from bot.senders import OPEN_COMMANDS, Senders, Standing
from bot.units import audit, settle
from commands import i18n
from commands.audience import Audience, Viewer, audience_for
from commands.context import Context
from commands.framework import (
    ArgumentError,
    BotIdentity,
    Command,
    CommandError,
    Input,
    Listener,
    ParseEnv,
    Proof,
    Refused,
    Router,
    View,
    role_titles,
)
from commands.parsing import (
    Found,
    Registry,
    UnknownCommand,
    command_text,
    find,
    find_in,
    named,
    spaced_command,
)
from commands.sections import LimitsConfig, Sections
from commands.tlp import IDENTITY_WAITS
from commands.values import Exists, Joined, RoomFacts, RoomKind
from storage.db import Database
from storage.events import AlreadyHandled
from storage.outbox import OutboxMessage
from storage.roster import Member
from storage.stores import Stores

log = logging.getLogger(__name__)

ACCEPTED, REFUSED, INVALID, FAILED = "accepted", "refused", "invalid", "failed"
IGNORED = "ignored"  # an edit of a command: answered, never run
EDIT_WINDOW = timedelta(hours=1)  # edits later than this after the command get no answer
Facts = Callable[[str], RoomFacts | None]  # what the Matrix side knows of a room, now


@dataclass
class Outcome:
    """What handling one event did."""

    outcome: str
    command: str | None = None
    replies: list[Outgoing] = field(default_factory=list)
    duplicate: bool = False
    detail: str = ""  # what the audit log says of it
    outbox: list[OutboxMessage] = field(default_factory=list)  # the rows the replies went to


class Dispatcher:
    def __init__(
        self,
        *,
        routers: Iterable[Router],
        db: Database,
        env: ParseEnv,
        config: Sections,
        outbox: OutboxWriter,
        submit: Callable[[list[OutboxMessage]], None],
        wake: Callable[[str, int], None],
        rooms: Mapping[RoomKind, str],
        facts: Facts,
        identity: BotIdentity,
        senders: Senders,
        exists: Exists,
        joined: Joined,
        metrics: Metrics,
        faults: CrashPoints,
    ) -> None:
        self.registry = Registry(routers)
        self.senders, self.exists, self.joined = senders, exists, joined
        self.db, self.env, self.config = db, env, config
        self.outbox, self.submit, self.wake = outbox, submit, wake
        self.rooms, self.facts, self.identity = rooms, facts, identity
        self.metrics, self.faults = metrics, faults
        self.floods = Floods()

    async def handle(self, said: Input) -> Outcome | None:
        """Handle one input; None when it is neither a command nor anything a family wants."""
        started = time.perf_counter()
        ctx: Context | None = None
        try:
            outcome, ctx = await self._handle(said)
        except _Duplicate as dup:
            return Outcome(ACCEPTED, dup.command, duplicate=True)
        except AlreadyHandled:  # marked at the end (not claimed): nothing of it committed
            return Outcome(ACCEPTED, None, duplicate=True)
        if outcome is None or outcome.duplicate:
            return outcome
        log.info("event %s: %s %s", said.event_id, outcome.command, outcome.outcome)
        self.metrics.commands.labels(outcome.command or "unknown", outcome.outcome).inc()
        self.metrics.latency.observe(time.perf_counter() - started)
        self.faults.hit("after-commit")
        if ctx is not None:
            settle(ctx, outcome.outbox, submit=self.submit, wake=self.wake, metrics=self.metrics)
        else:
            self.submit(outcome.outbox)
        return outcome

    async def _handle(self, said: Input) -> tuple[Outcome | None, Context | None]:
        now = self.env.now()
        if said.replaces is not None:
            return await self._edited(said, now), None
        if said.reaction is not None or said.attachment is not None:
            return await self._listen(said, now)  # a file's name is never a command
        prefix = self.config.committee.command_prefix
        text = command_text(said.body, prefix)
        if text is None and spaced_command(said.body, self.registry, prefix) is None:
            return await self._listen(said, now)
        # A command: answered in the conversation's language (commands.languages), read with
        # the sender's roster standing in one unit.
        async with self.db.unit(write=False) as store:
            member = await store.roster.member(said.sender)
            lang = await self._language(said, store)
        at = said.sent_at if said.sent_at is not None else now.timestamp()
        verdict = self.floods.check(said.sender, member=member is not None, at=at)
        if verdict is not Verdict.ALLOW:  # a flood: told once, then nothing at all
            if verdict is Verdict.DROP:
                return None, None
            with i18n.speaking(lang):
                return await self._reject(said, now, None, _Flooded(), REFUSED), None
        with i18n.speaking(lang):
            try:
                found = self._read(said, text, member)
            except ArgumentError as exc:
                return await self._reject(said, now, None, exc, INVALID), None
            return await self._command(said, now, found, member)

    def _read(self, said: Input, text: str | None, member: Member | None) -> Found:
        """The command and its words; nothing longer than the limit is read, and of a
        message from someone not on the roster only the command's name (only !help and
        !whoami are theirs, and their arguments are short)."""
        if text is None:
            found = find(
                said.body, self.registry, self.config.committee.command_prefix
            )  # raises: "! status"
            raise AssertionError(f"a spaced command was found: {found}")
        limit = self.config[LimitsConfig].max_command_chars
        if len(text) > limit:
            return find_in(text, self.registry, limit=limit)  # raises TooLong
        if member is None:
            command = named(text, self.registry)
            if command.name not in OPEN_COMMANDS:  # refused by role, its words unread
                return Found(command, "", [])
        return find_in(text, self.registry, limit=limit)

    async def _language(self, said: Input, store: Stores) -> str:
        """The sender's language in a direct message, the room's in a room."""
        user, room = (said.sender, None) if said.is_direct else (None, said.room_id)
        return await self.outbox.language(store, user, room)

    async def _command(
        self, said: Input, now: datetime, found: Found, member: Member | None
    ) -> tuple[Outcome | None, Context | None]:
        command = found.command
        said = await _proven(said)
        standing = await self.senders.standing(said, member, now)
        if self.senders.refused(standing, command.name):
            why = self._why_refused(said, standing)
            return await self._reject(said, now, command, why, REFUSED), None
        try:
            return await self._run(said, now, found, member, standing)
        except Refused as exc:
            return await self._reject(said, now, command, exc, REFUSED), None
        except CommandError as exc:
            return await self._reject(said, now, command, exc, INVALID), None
        except _Duplicate:
            raise
        except Exception as exc:  # a bug must not stop the bot; logged without user text
            log_failure(log, f"command {command.name} for event {said.event_id}", exc)
            return await self._reject(said, now, command, exc, FAILED), None

    def _why_refused(self, said: Input, standing: Standing) -> Refused:
        if standing == Standing.UNSIGNED:
            return _Unverified(said.encrypted)
        return _Pending(i18n._(IDENTITY_WAITS).format(prefix=self.config.committee.command_prefix))

    async def _run(
        self, said: Input, now: datetime, found: Found, member: Member | None, standing: Standing
    ) -> tuple[Outcome, Context]:
        command = found.command
        async with self.db.unit() as store:
            # Claimed first: a duplicate stops here, and every rollback below un-claims it.
            try:
                await store.events.mark(
                    event_id=said.event_id,
                    room_id=said.room_id,
                    sender=said.sender,
                    outcome=ACCEPTED,
                    now=now,
                    ciphertext=said.ciphertext,
                )
            except AlreadyHandled:
                raise _Duplicate(command.name) from None
            # The roles are read again in the transaction that acts on them: a role taken
            # away since the words were read counts at once.
            member = await store.roster.member(said.sender)
            ctx = await self._context(said, now, store, member, command, standing=standing)
            # The role is checked before the arguments are read: a stranger learns nothing.
            if not command.allows(ctx.roles):
                raise _refusal_detail(command, ctx.member)
            result = await command.handler(ctx, **found.bind(self.env))
            if result is not None:
                await ctx.reply(result)
            outcome = await self._finish(store, said, now, command.name, ACCEPTED, ctx, True)
        return outcome, ctx

    async def _edited(self, said: Input, now: datetime) -> Outcome | None:
        """An edit never runs a command. A member who edits one soon after sending it is told
        so once, lest they think the corrected command ran."""
        replaced = said.replaces
        if (
            command_text(said.body, self.config.committee.command_prefix) is None
            or replaced is None
        ):
            return None
        said = await _proven(said)
        if self.senders.unsigned(said):
            return None
        told = f"told-edit:{hashlib.sha256(replaced.encode()).hexdigest()[:40]}"
        async with self.db.unit() as store:
            member = await store.roster.member(said.sender)
            original = await store.events.get(replaced)
            late = original is not None and now - original.processed_at > EDIT_WINDOW
            if member is None or late or await store.state.get(told) is not None:
                return None
            if await store.events.seen(said.event_id):
                return None
            await store.state.set(told, now.isoformat(), now=now)
            with i18n.speaking(await self._language(said, store)):
                ctx = await self._context(said, now, store, member, None)
            await ctx.reply(
                View("errors/edited", {"prefix": self.config.committee.command_prefix})
            )
            ctx.audit_detail = f"edit of {replaced}"
            return await self._finish(store, said, now, "edit", IGNORED, ctx)

    async def _listen(self, said: Input, now: datetime) -> tuple[Outcome | None, Context | None]:
        """The first listener that takes the input; everyday chatter costs one read."""
        for listener in self.registry.listeners:
            if listener.accepts(said):
                said = await _proven(said)
                handled = await self._listener(listener, said, now)
                if handled[0] is not None:
                    return handled
        return None, None

    async def _listener(
        self, listener: Listener, said: Input, now: datetime
    ) -> tuple[Outcome | None, Context | None]:
        # Only roster members' events count, from devices that count (an acknowledgement
        # from a session under a new identity stops nothing); when the handler returns None
        # nothing is recorded at all.
        if self.senders.unsigned(said):
            return None, None
        async with self.db.unit(write=False) as store:
            member = await store.roster.member(said.sender)
        if member is None or await self.senders.standing(said, member, now) != Standing.COUNTS:
            return None, None
        async with self.db.unit() as store:
            if await store.events.seen(said.event_id):
                return None, None
            member = await store.roster.member(said.sender)
            if member is None:
                return None, None
            with i18n.speaking(await self._language(said, store)):
                ctx = await self._context(said, now, store, member, None)
                result = await listener.handler(ctx, said)
            if result is None and not ctx.replies:  # not for this listener: nothing kept
                return None, None
            if result is not None:
                await ctx.reply(result)
            return await self._finish(store, said, now, listener.name, ACCEPTED, ctx), ctx

    async def _reject(
        self,
        said: Input,
        now: datetime,
        command: Command | None,
        exc: Exception,
        outcome: str,
    ) -> Outcome:
        async with self.db.unit() as store:
            name = command.name if command else "unknown"
            if await store.events.seen(said.event_id):
                return Outcome(outcome, name, duplicate=True)
            member = await store.roster.member(said.sender) if outcome == REFUSED else None
            ctx = await self._context(said, now, store, member, command)
            if isinstance(exc, _Unverified | _Pending) and not await self.senders.first_refusal(
                store, said, now
            ):
                ctx.audit_detail = exc.message  # told once already: only audited now
                return await self._finish(store, said, now, name, outcome, ctx)
            await ctx.reply(self._error(command, member, exc, outcome))
            # A refusal names only the command and roles; an argument error can quote what
            # was typed (possibly TLP:RED text), so only its kind is kept.
            if outcome == REFUSED:
                ctx.audit_detail = getattr(exc, "message", "")
            elif outcome == INVALID:
                ctx.audit_detail = type(exc).__name__
            return await self._finish(store, said, now, name, outcome, ctx)

    async def _finish(
        self,
        store: Stores,
        said: Input,
        now: datetime,
        action: str,
        outcome: str,
        ctx: Context,
        marked: bool = False,
    ) -> Outcome:
        if not marked:
            await store.events.mark(
                event_id=said.event_id,
                room_id=said.room_id,
                sender=said.sender,
                outcome=outcome,
                now=now,
                ciphertext=said.ciphertext,
            )
        await audit(
            ctx,
            actor=said.sender,
            action=action,
            outcome=outcome,
            room_id=said.room_id,
            event_id=said.event_id,
        )
        replies = [
            await self.outbox.render(
                store,
                reply,
                here=said.room_id,
                event=said.event_id,
                seal=ctx.viewer.seal(),
                thread=ctx.thread,
                reader=said.sender if said.is_direct else None,
            )
            for reply in ctx.replies
        ]
        rows = []
        for out in replies:
            # A reply mentions the person it answers, as the Matrix spec recommends; an alert
            # (m.text, which rings whoever it mentions) does not ring the person who sent it.
            also = [said.sender] if out.in_reply_to is not None and not out.alert else []
            rows += await self.outbox.write(store, out, also_mention=also)
        self.faults.hit("before-commit")
        return Outcome(outcome, action, replies, detail=ctx.audit_detail, outbox=rows)

    async def _context(
        self,
        said: Input,
        now: datetime,
        store: Stores,
        member: Member | None,
        command: Command | None,
        *,
        standing: Standing = Standing.COUNTS,
    ) -> Context:
        async def audience_of(room_id: str) -> Audience:
            return await audience_for(store, self.facts(room_id), room_id)

        return Context(
            sender=said.sender,
            room_id=said.room_id,
            event_id=said.event_id,
            member=member,
            store=store,
            env=self.env,
            config=self.config,
            now=now,
            identity=self.identity,
            rooms=self.rooms,
            viewer=Viewer(await audience_of(said.room_id)),
            audience_of=audience_of,
            command=command,
            commands=self.registry,
            lang=i18n.current(),
            is_direct=said.is_direct,
            encrypted=said.encrypted,
            room_kind=said.room_kind,
            device_id=said.device_id,
            master_key=said.master_key,
            thread=said.thread,
            identity_trusted=standing != Standing.PENDING,
            device_counts=standing != Standing.UNSIGNED,
            exists=self.exists,
            joined=self.joined,
        )

    def _error(
        self, command: Command | None, member: Member | None, exc: Exception, outcome: str
    ) -> View:
        prefix = self.config.committee.command_prefix
        if outcome == FAILED:
            return View("errors/failed")
        message = getattr(exc, "message", str(exc))
        if outcome == REFUSED:
            if isinstance(exc, _Unverified):
                data = {"prefix": prefix, "encrypted": exc.encrypted}
                return View("errors/unverified_device", data)
            if isinstance(exc, _Flooded):
                return View("errors/flooded", {})
            if isinstance(exc, _RoleRefused) and command is not None:
                return View("errors/refused", _refusal(command, member, prefix))
            return View("errors/refused", {"message": message})
        if command is None or isinstance(exc, UnknownCommand):
            return View("errors/invalid", {"message": message})
        return View(
            "errors/usage",
            {
                "message": message,
                "usage": command.usage(prefix),
                "example": command.example,
                "help": f"{prefix}help {command.name}",
            },
        )


async def _proven(said: Input) -> Input:
    """The input with its device and the identity it is signed under, checked now if not yet.
    Whatever the homeserver answered, a failed check is an unknown device, never a crash."""
    if said.prove is None:
        return said
    try:
        proof = await said.prove()
    except Exception as exc:
        log_failure(log, f"checking the device of event {said.event_id}", exc)
        proof = Proof(None, None)
    return replace(
        said,
        device_id=proof.device_id,
        master_key=proof.master_key,
        self_signing_key=proof.self_signing_key,
        prove=None,
    )


class _Duplicate(Exception):
    """The event was already handled by a committed unit."""

    def __init__(self, command: str) -> None:
        super().__init__(command)
        self.command = command


class _Unverified(Refused):
    """The command came from a device its owner has not cross-signed."""

    def __init__(self, encrypted: bool) -> None:
        super().__init__("from a device its owner has not cross-signed")
        self.encrypted = encrypted


class _Flooded(Refused):
    """Too many commands at once from one sender."""

    def __init__(self) -> None:
        super().__init__("a flood of commands")


class _Pending(Refused):
    """The command came from a device signed under an identity that awaits the chair."""


class _RoleRefused(Refused):
    """The sender's roles do not include one the command is for."""


def _refusal_detail(command: Command, member: Member | None) -> _RoleRefused:
    allowed = role_titles(command.roles or ())
    mine = role_titles(member.roles) if member else "not on the roster"
    return _RoleRefused(f"!{command.name} is for: {allowed}; sender: {mine}")


def _refusal(command: Command, member: Member | None, prefix: str) -> dict:
    return {
        "message": None,
        "member": member is not None,
        "prefix": prefix,
        "command": command.name,
        "allowed": role_titles(command.roles or ()),
        "yours": role_titles(member.roles) if member else "",
    }
