"""The one path by which the bot speaks, and its gate: a reply, a listener's answer, a job's
post or an email is rendered and written to the outbox in the caller's unit of work; after
the unit commits the rows are handed to the sender.

Nothing is written without its seal (commands.audience): the strictest label of what it
shows, the least clearance its readers must have, the people it is bound to. A message
template declares on its first line whether it shows records or only the bot's own words; a
template showing records is written only with the label its handler's viewer gave it (its
data carries `carried`). An email, read by mail servers on the way, never carries more than
GREEN. The sender checks the seal again against the room's readers when it sends.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.matrix.content import notice, replacement
from bot.rendering import Message, Renderer, plain
from commands import i18n
from commands.framework import PINNED, FileSpec, ForPerson, RawEvent, Reply, View
from commands.i18n import SOURCE, Deferred, Moment
from commands.values import Clearance, Seal
from storage.outbox import EMAIL, OutboxMessage
from storage.stores import Stores


class Ungated(Exception):
    """An output that does not say what it shows: a bug, refused before anything is written."""


EMAILABLE = ("clear", "green")  # the labels an email may carry
MESSAGE = "m.room.message"


@dataclass(frozen=True)
class Outgoing:
    """A rendered message to send: into a room, or (room_id None) to a person's DM."""

    room_id: str | None
    message: Message
    seal: Seal
    in_reply_to: str | None = None
    mentions: tuple[str, ...] = ()
    files: tuple[FileSpec, ...] = ()
    ref: str | None = None
    to_user: str | None = None
    report_to: tuple[str, ...] = ()
    alert: bool = False
    lang: str = SOURCE  # what the message was written in; its files are too
    thread: str | None = None  # the thread it answers in
    event: RawEvent | None = None  # an event a family shaped itself (a poll): sent as given
    edits: str | None = None  # the bot's event it replaces (m.replace)


def _file(spec: FileSpec, lang: str) -> dict:
    """A file's row: its data as JSON, words that are translated where they are shown (a
    month's name, an audience) written out in the message's language."""

    def written(value: object) -> str:
        if isinstance(value, Moment | Deferred):
            return str(value)
        raise TypeError(f"{type(value).__name__} in a file's data")

    with i18n.speaking(lang):
        row = json.loads(json.dumps(asdict(spec), default=written))
    return row | {"lang": lang}  # the file's own words are written in it when it is sent


# The language to write in to a person (their DM) or in a room: (store, user, room).
LanguageOf = Callable[["Stores", str | None, str | None], Awaitable[str]]
ZoneOf = Callable[["Stores", str], Awaitable[ZoneInfo | None]]


async def _source_language(_store: Stores, _user: str | None, _room: str | None) -> str:
    return SOURCE


async def _committee_zone(_store: Stores, _user: str) -> ZoneInfo | None:
    return None


class OutboxWriter:
    def __init__(
        self,
        renderer: Renderer,
        clock: Callable[[], datetime],
        language: LanguageOf = _source_language,
        zone: ZoneOf = _committee_zone,
    ) -> None:
        self.renderer, self.clock, self.language, self.zone = renderer, clock, language, zone

    async def render(
        self,
        store: Stores,
        reply: Reply,
        *,
        here: str | None = None,
        event: str | None = None,
        seal: Seal | None = None,
        thread: str | None = None,
        reader: str | None = None,
    ) -> Outgoing:
        """A reply rendered in its language (the recipient's, or the room's, unless the
        reply says); without a room or person of its own it answers `event` in `here`, as a
        Matrix reply. `seal` applies where the reply does not carry its own. Written to one
        person — their DM, or `here` when `reader` reads it alone — its times are in their
        own zone, when their profile gives one."""
        sealed = reply.seal or seal
        if sealed is None:
            raise Ungated("an output without a seal")
        self._declared(reply.content)
        room = reply.room_id or (None if reply.to_user else here)
        lang = reply.lang or await self.language(store, reply.to_user, room)
        alone = reply.to_user if room is None else (reader if room == here else None)
        zone = await self.zone(store, alone) if alone else None
        content = reply.content
        raw = content if isinstance(content, RawEvent) else None
        return Outgoing(
            room_id=room,
            message=self.renderer.render(
                "" if isinstance(content, RawEvent) else content, lang, zone
            ),
            event=raw,
            edits=reply.edits,
            seal=sealed,
            in_reply_to=event if room is not None and room == here else None,
            mentions=reply.mentions,
            files=reply.files,
            ref=str(reply.ref) if reply.ref else None,
            to_user=reply.to_user,
            report_to=reply.report_to,
            alert=reply.alert,
            lang=lang,
            thread=thread if room is not None and room == here else None,
        )

    def _declared(self, content: object) -> None:
        """A view says what it shows; one showing records carries their label (`carried`)."""
        if isinstance(content, ForPerson):
            content = content.view
        if not isinstance(content, View):
            return
        shows = self.renderer.shows(content.template)
        if shows is None:
            raise Ungated(f"{content.template} does not declare what it shows")
        if shows == "records" and "carried" not in content.data:
            raise Ungated(f"{content.template} shows records without the label they carry")

    async def write(
        self,
        store: Stores,
        out: Outgoing,
        *,
        also_mention: Iterable[str] = (),
        flush: bool = True,
    ) -> list[OutboxMessage]:
        """The message and its files, in the caller's transaction; the message row first.

        With `flush=False` rows get their IDs at the unit's next flush, so that many written
        together (a broadcast's DMs) are inserted in one statement.
        """
        content = self._content(out, also_mention)
        if out.event is None and len(json.dumps(content)) > MOST_CONTENT:
            out = replace(out, message=shortened(out.message, out.lang))
            content = self._content(out, also_mention)
        now = self.clock()
        kind = "pin" if out.event and out.event.type == PINNED else "message"
        parts: list[tuple[str, dict, str | None]] = [(kind, content, out.ref)]
        parts += [("file", _file(spec, out.lang), None) for spec in out.files]
        return [
            await store.outbox.enqueue(
                room_id=out.room_id,
                to_user=out.to_user,
                report_to=out.report_to,
                **_sealed(out.seal),
                content=body,
                kind=kind,
                ref=ref,
                now=now,
                flush=flush,
                event_type=out.event.type if out.event and kind != "file" else MESSAGE,
            )
            for kind, body, ref in parts
        ]

    @staticmethod
    def _content(out: Outgoing, also_mention: Iterable[str]) -> dict:
        content = out.event.content if out.event else notice(
            out.message,
            in_reply_to=out.in_reply_to,
            mentions=[*out.mentions, *also_mention],
            alert=out.alert,
            thread=out.thread,
        )  # fmt: skip
        return replacement(content, out.edits) if out.edits else content

    async def post(self, store: Stores, reply: Reply) -> OutboxMessage:
        """A job's message (no reply relation); returns its row, whose ID comes at flush."""
        return (await self.write(store, await self.render(store, reply), flush=False))[0]

    async def email(
        self,
        store: Stores,
        *,
        to: str,
        subject: str,
        view: View,
        ref: str | None,
        seal: Seal,
        report_to: Iterable[str] = (),
        files: Iterable[FileSpec] = (),
    ) -> OutboxMessage:
        """An email in plain text, sent by `bot.mail` once the unit commits, its files
        rendered and attached then; a failure is reported to the chair like a Matrix
        message's. Mail servers read it on the way: it carries nothing above GREEN, and
        nothing bound to people — its files included, which share its seal."""
        if seal.label not in EMAILABLE or seal.needs > Clearance.OUTSIDER or seal.bound_to:
            raise Ungated(f"an email sealed {seal.label}: its readers are outsiders")
        self._declared(view)
        lang = await self.language(store, to, None)
        text = self.renderer.text(view.template, view.data, lang, await self.zone(store, to))
        content: dict = {"subject": subject, "text": text}
        if attached := [_file(spec, lang) for spec in files]:
            content["files"] = attached
        return await store.outbox.enqueue(
            room_id=None,
            to_user=to,
            kind=EMAIL,
            event_type=EMAIL,
            content=content,
            ref=ref,
            now=self.clock(),
            report_to=report_to,
            **_sealed(seal),
            flush=False,
        )


# Synapse refuses an event over 65,536 bytes (M_TOO_LARGE), and a message is refused for
# good; encrypted, its content grows by a third (base64) plus the envelope. A digest of a busy
# quarter wrote 70 KB (found by bench/soak.py). Content is kept under this, as JSON.
MOST_CONTENT = 40_000


def shortened(message: Message, lang: str) -> Message:
    """A message too long for one Matrix event: its first lines, in plain text, and a line
    saying how many were left out. Only ever less of what was there: no label is lost (the
    first line carries it) and nothing is added but the note."""
    lines = message.body.splitlines()
    budget = MOST_CONTENT // 5  # body and its HTML, twice over in an edit, JSON-escaped
    kept: list[str] = []
    size = 2  # the quotes
    for line in lines:
        size += len(json.dumps(line)) - 2 + 2  # the line escaped, and its escaped newline
        if size > budget:
            break
        kept.append(line)
    if not kept and lines:  # one line longer than the budget: its beginning
        kept = [lines[0][: budget // 8]]
    with i18n.speaking(lang):
        note = i18n.ngettext(
            "… shortened to fit one message: {count} line left out (files sent with it hold "
            "everything).",
            "… shortened to fit one message: {count} lines left out (files sent with it hold "
            "everything).",
            len(lines) - len(kept),
        ).format(count=len(lines) - len(kept))
    return plain("\n".join([*kept, "", note]))


def _sealed(seal: Seal) -> dict:
    return {"label": seal.label, "needs": int(seal.needs), "bound_to": seal.bound_to}


class Handoff:
    """Committed outbox rows on their way to the sender: the dispatcher and the jobs put them
    here after their unit commits; the sender takes them without reading them back."""

    def __init__(self) -> None:
        self._rows: list[OutboxMessage] = []
        self._mail: list[OutboxMessage] = []
        self.ready = asyncio.Event()
        self.mail_ready = asyncio.Event()

    def submit(self, rows: Iterable[OutboxMessage]) -> None:
        for row in rows:
            if row.kind == EMAIL:
                self._mail.append(row)
                self.mail_ready.set()
            else:
                self._rows.append(row)
                self.ready.set()

    def take(self) -> list[OutboxMessage]:
        rows, self._rows = self._rows, []
        self.ready.clear()
        return rows

    def take_mail(self) -> list[OutboxMessage]:
        rows, self._mail = self._mail, []
        self.mail_ready.clear()
        return rows
