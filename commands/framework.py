"""The command framework: routers with their declared commands, listeners and jobs.

A command handler is a plain async function `handler(ctx, **arguments)`. It answers through
`ctx.reply` or by returning a `View` (data plus a template name) or a string; it never sees a
Matrix client. A job is declared the same way and runs with a `JobContext` (commands.context).
"""

from __future__ import annotations

import argparse
import keyword
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from commands.i18n import N_, Deferred, _
from commands.values import Ref, RoomKind, Seal

if TYPE_CHECKING:
    from commands.context import Context, JobContext
    from commands.reference import Reference
    from commands.sections import Section, Sections
    from storage.stores import Stores


NEVER = datetime.min.replace(tzinfo=UTC)


class Role(StrEnum):
    NCPOC = "ncpoc"
    CHAIR = "chair"
    STEERING = "steering"
    ADMIN = "admin"
    CONTACT = "contact"  # a national contact outside the committee (commands.contacts)
    # The Regional Intelligence Fusion Centre's analysts: read and export the incident
    # picture at a Steering member's clearance (commands.audience), never vote or act.
    RIFC = "rifc"


ROLE_TITLES = {
    Role.NCPOC: N_("NCPOC"),
    Role.CHAIR: N_("RCC chair"),
    Role.STEERING: N_("Steering Committee member"),
    Role.ADMIN: N_("bot admin"),
    Role.CONTACT: N_("national contact"),
    Role.RIFC: N_("RIFC analyst"),
}


def role_titles(roles: Iterable[str]) -> str:
    """`NCPOC, RCC chair` in the roles' declared order, in the current language."""
    return ", ".join(_(ROLE_TITLES[r]) for r in Role if r in set(roles))


ANYONE: frozenset[Role] | None = None
READERS = frozenset({Role.NCPOC, Role.CHAIR, Role.STEERING, Role.RIFC})
CONTRIBUTORS = frozenset({Role.NCPOC, Role.CHAIR})
CHAIR_ONLY = frozenset({Role.CHAIR})
ROSTER_KEEPERS = frozenset({Role.CHAIR, Role.ADMIN})
DIGEST_READERS = frozenset({Role.CHAIR, Role.STEERING})
# At most one of these per person: a person speaks for one country, or for the committee,
# or for the RIFC (admin is the operators' role and may go with any of them).
ONE_PER_PERSON = frozenset({Role.NCPOC, Role.CONTACT, Role.CHAIR, Role.STEERING, Role.RIFC})
# Everyone a broadcast can reach: NCPOCs and the national contacts beside them.
NATIONAL = frozenset({Role.NCPOC, Role.CONTACT})


class CommandError(Exception):
    """What the user typed cannot be done; nothing was changed. The message is shown as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ArgumentError(CommandError):
    """An argument could not be read.

    `specific` marks an error about a value of the right shape (a date that does not exist)
    rather than text of the wrong shape; the parser prefers it when it tried several
    readings of a multi-word argument.
    """

    def __init__(self, message: str, *, specific: bool = False) -> None:
        super().__init__(message)
        self.specific = specific


class Refused(Exception):
    """The sender's role does not allow this; nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ParseEnv:
    """What argument parsers may consult: reference data, the committee's zone and the time."""

    reference: Reference
    zone: ZoneInfo
    now: Callable[[], datetime]


Parser = Callable[[str, ParseEnv], Any]


@dataclass(frozen=True)
class Labelled:
    """A parser that says how usage and help show its value: a choice's words are written
    once, where its parser is made (`<low|medium|high|critical>`)."""

    parse: Parser
    label: str

    def __call__(self, text: str, env: ParseEnv) -> Any:
        return self.parse(text, env)


def one_of(values: Iterable[str]) -> str:
    """How a choice among `values` is shown: `<a|b|c>`."""
    return "<" + "|".join(values) + ">"


def _label(parse: Parser, metavar: str, name: str) -> str:
    if metavar:
        return metavar
    if isinstance(parse, Labelled):
        return parse.label
    raise TypeError(f"the parameter {name!r} needs a usage label: its parser has none")


@dataclass(frozen=True)
class Pos:
    """A positional argument; shown in usage as its parser's label unless `metavar` says."""

    name: str
    parse: Parser
    metavar: str = ""
    optional: bool = False
    words: int = 1  # up to this many words may form the value ("Trinidad and Tobago")

    def __post_init__(self) -> None:
        object.__setattr__(self, "metavar", _label(self.parse, self.metavar, self.name))


@dataclass(frozen=True)
class Opt:
    """A `key=value` option, recognised anywhere in the message; shown in usage as its
    parser's label unless `metavar` says."""

    key: str
    parse: Parser
    metavar: str = ""
    required: bool = False
    words: int = 1  # up to this many words may form the value (area=Legal environment)

    def __post_init__(self) -> None:
        object.__setattr__(self, "metavar", _label(self.parse, self.metavar, self.key))

    @property
    def name(self) -> str:
        name = self.key.replace("+", "_").replace("-", "_")
        return f"{name}_" if keyword.iskeyword(name) else name  # for= is the handler's for_


@dataclass(frozen=True)
class Text:
    """The trailing free text (everything not consumed by positionals and options)."""

    name: str
    metavar: str
    required: bool = True


Param = Pos | Opt | Text


@dataclass(frozen=True)
class View:
    """Data for a template: `bot/templates/<template>.txt.j2` and `.html.j2` render it."""

    template: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ForPerson:
    """`view` written to one person, their Matrix ID in `data[field]`: the same view for many
    people (a broadcast's DMs) is rendered once per language and zone and each one's ID put
    in after (`bot.rendering.Renderer.render`), instead of a template render per person."""

    view: View
    field: str
    person: str


@dataclass(frozen=True)
class FileSpec:
    """A file to attach, rendered from data when it is sent (see `bot/files.py`)."""

    filename: str
    renderer: str  # e.g. "digest-html", "digest-png"
    mimetype: str
    data: dict[str, Any]
    body: str = ""  # the caption clients show


@dataclass(frozen=True)
class RawEvent:
    """An event a family shapes itself, for what Matrix has beyond messages (a poll, and its
    end): its type and its content (which carries the words a client without support shows).
    It is sealed and gated like any message."""

    type: str
    content: dict[str, Any]


PINNED = "m.room.pinned_events"


def pin(event_id: str, *, on: bool = True) -> RawEvent:
    """Pin one of the bot's events in its room (or, `on` False, unpin it): the Matrix layer
    adds it to, or takes it from, the room's pinned events as they stand when it is sent."""
    return RawEvent(PINNED, {"event_id": event_id, "pin": on})


@dataclass(frozen=True)
class Reply:
    """One message for the bot to send: by default a reply in the command's room; to a room
    by ID, or to a person (`to_user`: the bot's direct message with them, opened if needed).

    `report_to` are told, in words, if the homeserver refuses the message for good.
    """

    # Deferred: plain words made in the reader's language; RawEvent: an event as given.
    content: str | View | ForPerson | Deferred | RawEvent
    mentions: tuple[str, ...] = ()
    room_id: str | None = None
    files: tuple[FileSpec, ...] = ()
    ref: Ref | None = None  # the record the message belongs to
    to_user: str | None = None
    report_to: tuple[str, ...] = ()
    # What it shows (commands.audience): the sender admits it only where its readers, when
    # it is sent, fit. None: a command's reply, sealed with what its handler's viewer showed.
    seal: Seal | None = None
    # Must reach the people it mentions now (a broadcast, a reminder, an escalation): sent
    # as m.text, which notifies them; everything else is an m.notice, which by default does
    # not (and which no bot answers).
    alert: bool = False
    # The language to write it in (commands.i18n); None: the recipient's, or the room's.
    lang: str | None = None
    # An edit (m.replace) of one of the bot's sent events: clients show it in its place.
    edits: str | None = None


@dataclass(frozen=True)
class Proof:
    """The device an input came from, and the identity its owner signed it under."""

    device_id: str | None
    master_key: str | None  # None: not cross-signed
    self_signing_key: str | None = None


Prove = Callable[[], Awaitable[Proof]]


@dataclass(frozen=True)
class Input:
    """What someone did in a room, as the Matrix layer hands it over (decrypted, in neutral
    terms): a message, possibly a reply to an earlier event, or a reaction to one."""

    event_id: str
    room_id: str
    sender: str
    body: str = ""
    is_direct: bool = False
    encrypted: bool = True
    room_kind: RoomKind = RoomKind.RCC
    reply_to: str | None = None  # the event this message answers
    thread: str | None = None  # the root of the thread it was sent in (answered there)
    poll: str | None = None  # an answer to a poll (its ID); `reply_to` is the poll's event
    reaction: str | None = None  # the key of a reaction (then `reply_to` is what it reacts to)
    device_id: str | None = None  # the sending device, when it is known
    master_key: str | None = None  # its owner's master key, when they cross-signed it
    self_signing_key: str | None = None  # the key that signed it, under that master key
    replaces: str | None = None  # an edit (m.replace) of this event; `body` is the new text
    sent_at: float | None = None  # the homeserver's timestamp, in seconds (None: now)
    # The encrypted message it was ("<megolm session>:<index>"): handled once, whatever its
    # event ID (a homeserver replaying it under a new one: bot.matrix.replay).
    ciphertext: str | None = None
    # A file sent (its name is `body`): JSON of what fetches it — its URL and, for an
    # encrypted file, its key — kept as the record's own data, never logged.
    attachment: str | None = field(default=None, repr=False)
    # Finds device_id and master_key when they matter (a command, a listener's input): the
    # Matrix layer's check, so that everyday chatter costs no key lookup.
    prove: Prove | None = field(default=None, compare=False, repr=False)


def file_in_reply(said: Input) -> bool:
    """A file sent in reply to a message (what listeners that keep or refuse one accept)."""
    return said.attachment is not None and said.reply_to is not None


@dataclass(frozen=True)
class BotIdentity:
    """Who the bot is on Matrix, for `!whoami bot`."""

    user_id: str
    device_id: str
    master_key: str | None = None  # the cross-signing master key, when the device is signed
    node: str | None = None  # of two sites ([ha]), the node answering: the one acting


Handler = Callable[..., Awaitable[str | View | None]]
ListenHandler = Callable[["Context", Input], Awaitable[str | View | None]]
JobHandler = Callable[["JobContext", int], Awaitable[datetime | None]]
# Which records of a job kind have work left (due now or later): read from the database at
# every start, so that nothing unfinished is forgotten.
JobPending = Callable[["Stores", "Sections", datetime], Awaitable[Iterable[int]]]
# What a family does with the config at start (config deadlines created, say).
Prepare = Callable[["Stores", "Sections", datetime], Awaitable[None]]
# Whom the bot should have a direct chat with from the start (Matrix user IDs).
Directs = Callable[["Stores", "Sections"], Awaitable[Iterable[str]]]


@dataclass(frozen=True)
class Listener:
    """Something other than a command that a family answers: a reply or a reaction.

    `accepts` looks at the input alone (no database), so that everyday chatter costs nothing;
    the handler returns None when the input turns out not to concern it, and then nothing is
    recorded at all.
    """

    name: str  # what the audit log calls it
    handler: ListenHandler
    accepts: Callable[[Input], bool]


class Offline(Protocol):
    """What a family's command-line verb works with (`rcc-bot report …`): the database at
    its newest schema and the config applied, the committee's reference data and sections,
    the files the bot can draw, and a way to say what went wrong in one line."""

    env: ParseEnv
    config: Sections
    committee: str

    def unit(self, *, write: bool = True) -> AbstractAsyncContextManager[Stores]: ...

    def render(self, name: str, data: dict[str, Any]) -> bytes: ...

    def say(self, line: str) -> None: ...

    def error(self, line: str) -> int: ...


@dataclass(frozen=True)
class Verb:
    """A verb of the `rcc-bot` command line, declared by a family: its arguments (besides
    --config, and --lang for a document) and what it does."""

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[Offline, argparse.Namespace], Awaitable[int]]
    document: bool = False  # written in a language: takes --lang
    # Writes to the database (the config's roster and deadlines are applied first); a verb
    # that only reads changes nothing at all, migrations and seeding included.
    writes: bool = False


class Signal(StrEnum):
    """What the core tells the families about, without naming any of them."""

    NOTICE = "notice"  # a notice about rooms or identities was recorded for the chair
    REFUSED = "refused"  # the homeserver refused a message for good


@dataclass(frozen=True)
class Job:
    """Work the clock starts: declared on a family's router like a command, run by the
    framework in one unit of work with a `JobContext`, for one record at a time.

    The handler returns when to run again for that record (None: nothing left to do).
    """

    name: str
    handler: JobHandler
    pending: JobPending
    summary: str
    on: tuple[Signal, ...] = ()  # the core's signals that wake it (record 0)


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    summary: str
    roles: frozenset[Role] | None
    params: tuple[Param, ...]
    example: str
    aliases: tuple[str, ...] = ()
    details: str = ""

    @property
    def family(self) -> str:
        return self.name.split(" ", 1)[0]

    @property
    def sub(self) -> str | None:
        parts = self.name.split(" ", 1)
        return parts[1] if len(parts) == 2 else None

    @property
    def options(self) -> dict[str, Opt]:
        return {p.key: p for p in self.params if isinstance(p, Opt)}

    @property
    def positionals(self) -> tuple[Pos, ...]:
        return tuple(p for p in self.params if isinstance(p, Pos))

    @property
    def text(self) -> Text | None:
        return next((p for p in self.params if isinstance(p, Text)), None)

    def usage(self, prefix: str = "!") -> str:
        """The usage line, generated from the declared parameters."""
        words = [f"{prefix}{self.name}"]
        for p in self.params:
            if isinstance(p, Pos):
                words.append(f"[{p.metavar}]" if p.optional else p.metavar)
            elif isinstance(p, Opt):
                words.append(f"{p.key}={p.metavar}" if p.required else f"[{p.key}={p.metavar}]")
        text = self.text
        if text is not None:
            words.append(f"{text.metavar}..." if text.required else f"[{text.metavar}...]")
        return " ".join(words)

    def allows(self, roles: Iterable[str]) -> bool:
        return self.roles is None or bool(self.roles & set(roles))


class Router:
    """The commands of one family module; `commands.all_routers()` gathers them in one place."""

    def __init__(
        self, name: str, *, templates: Path | None = None, topic: str | None = None
    ) -> None:
        self.name = name
        self.templates = templates  # the family's own templates folder, if it has one
        # What the family is about, in plain words (marked N_): `!help <name>` shows its
        # commands with their examples; a family without one is not a topic of `!help`.
        self.topic = topic
        self.commands: list[Command] = []
        self.listeners: list[Listener] = []
        self.jobs: list[Job] = []
        self.family_aliases: dict[str, tuple[str, ...]] = {}
        self.sections: dict[str, tuple[type[Section], bool]] = {}  # [name]: (model, a [[list]])
        self.prepares: list[Prepare] = []
        self.directs: list[Directs] = []
        self.files: dict[str, Callable[[dict[str, Any]], bytes]] = {}
        self.verbs: list[Verb] = []

    def command(
        self,
        name: str,
        *,
        summary: str,
        roles: frozenset[Role] | None,
        example: str,
        params: Iterable[Param] = (),
        aliases: Iterable[str] = (),
        details: str = "",
    ) -> Callable[[Handler], Handler]:
        """Declare a command; returns the handler unchanged so tests can call it directly."""

        def register(handler: Handler) -> Handler:
            self.commands.append(
                Command(
                    name=name,
                    handler=handler,
                    summary=summary,
                    roles=roles,
                    params=tuple(params),
                    example=example,
                    aliases=tuple(aliases),
                    details=details,
                )
            )
            return handler

        return register

    def listener(
        self, name: str, *, accepts: Callable[[Input], bool]
    ) -> Callable[[ListenHandler], ListenHandler]:
        """Declare a listener for replies or reactions; returns the handler unchanged."""

        def register(handler: ListenHandler) -> ListenHandler:
            self.listeners.append(Listener(name, handler, accepts))
            return handler

        return register

    def job(
        self, name: str, *, pending: JobPending, summary: str, on: Iterable[Signal] = ()
    ) -> Callable[[JobHandler], JobHandler]:
        """Declare a job; `pending` finds its unfinished records at every start, and the
        core's signals in `on` wake it (record 0) without the core naming it."""

        def register(handler: JobHandler) -> JobHandler:
            self.jobs.append(Job(name, handler, pending, summary, tuple(on)))
            return handler

        return register

    def section(self, name: str, model: type[Section], *, many: bool = False) -> None:
        """Declare the config section this family reads (`[name]`, or `[[name]]` entries
        with `many`): the core reads it from the file and checks the example against it."""
        self.sections[name] = (model, many)

    def on_prepare(self, hook: Prepare) -> Prepare:
        """Declare what this family does with the config at start, before anything else
        touches the database (in the unit of work that applies the config)."""
        self.prepares.append(hook)
        return hook

    def file(
        self, name: str
    ) -> Callable[[Callable[[dict[str, Any]], bytes]], Callable[[dict[str, Any]], bytes]]:
        """Declare a kind of attachment this family makes from data (`FileSpec` name), drawn
        when its message is sent."""

        def register(make: Callable[[dict[str, Any]], bytes]) -> Callable[[dict[str, Any]], bytes]:
            self.files[name] = make
            return make

        return register

    def verb(
        self,
        name: str,
        *,
        help: str,
        arguments: Callable[[argparse.ArgumentParser], None],
        document: bool = False,
        writes: bool = False,
    ) -> Callable[
        [Callable[[Offline, argparse.Namespace], Awaitable[int]]],
        Callable[[Offline, argparse.Namespace], Awaitable[int]],
    ]:
        """Declare a verb of the `rcc-bot` command line (`rcc-bot digest --config …`); one
        that `writes` gets the database migrated and the config applied first, the others
        change nothing."""

        def register(
            run: Callable[[Offline, argparse.Namespace], Awaitable[int]],
        ) -> Callable[[Offline, argparse.Namespace], Awaitable[int]]:
            self.verbs.append(Verb(name, help, arguments, run, document, writes))
            return run

        return register

    def directs_at_start(self, finder: Directs) -> Directs:
        """Declare whom the bot should have a direct chat with once it runs (opened ahead
        of need: homeservers rate-limit room creation, an emergency should not wait)."""
        self.directs.append(finder)
        return finder

    def alias(self, family: str, *aliases: str) -> None:
        """Extra names for a whole family (`!inc` for `!incident`)."""
        self.family_aliases[family] = self.family_aliases.get(family, ()) + aliases
