"""`!lesson`: a searchable library of lessons learnt, shared openly or anonymously."""

from __future__ import annotations

import textwrap
from pathlib import Path

from commands import i18n
from commands.audience import Show, heard_by, hearers
from commands.common import own_country
from commands.context import Context
from commands.corrections import check_label, check_live, corrected, withdraw
from commands.framework import (
    CONTRIBUTORS,
    READERS,
    CommandError,
    Opt,
    ParseEnv,
    Pos,
    Router,
    Text,
    View,
)
from commands.i18n import N_, _
from commands.reference import Area
from commands.status import area
from commands.tlp import carried, check_postable, label, listing, present, stricter, tlp
from commands.types import csv, typed_id, word, yes_no
from commands.values import ShortId
from storage.lessons import Lesson
from storage.lists import pack, unpack

router = Router(
    "lessons", templates=Path(__file__).parent / "templates", topic=N_("lessons learnt")
)

MAX_TEXT = 4000
DEFAULT_TLP = "green"  # the library exists to share lessons across the region


def _tag(text: str, env: ParseEnv) -> str:
    return word(text, env).casefold().lstrip("#")


@router.command(
    "lesson add",
    summary="share a lesson learnt (anonymous=yes hides who shared it)",
    roles=CONTRIBUTORS,
    params=[
        Opt("area", area, "<priority-area>", words=4),
        Opt("tags", csv(_tag), "a,b"),
        Opt("incident", typed_id(ShortId.INC), "INC-n"),
        Opt("anonymous", yes_no, "yes"),
        Opt("tlp", tlp),
        Text("text", "text"),
    ],
    example="!lesson add area=coop tags=phishing,banking incident=INC-12 Pre-agreed takedown "
    "contacts at registrars cut response time from days to hours",
    details="A lesson is TLP:GREEN unless tlp= says otherwise; one linked to an incident "
    "takes the stricter of its own and the incident's label (a lower tlp= is refused). "
    "anonymous=yes is taken only in a direct chat with the bot, where nobody sees who typed it.",
)
async def lesson_add(
    ctx: Context,
    area: Area | None,
    tags: list[str] | None,
    incident: int | None,
    anonymous: bool | None,
    tlp: str | None,
    text: str,
) -> str:
    if len(text) > MAX_TEXT:
        raise CommandError(
            _("the lesson is too long ({size} characters; at most {MAX_TEXT})").format(
                size=len(text), MAX_TEXT=MAX_TEXT
            )
        )
    if anonymous and not ctx.is_direct:
        raise CommandError(
            _(
                "anonymous=yes works only in your direct chat with the bot: "
                "here everyone sees who sent the message. Send the same "
                "command to the bot in a DM"
            )
        )
    level, inherited = await _label_with(ctx, tlp, incident)
    check_postable(level, ctx)
    home = own_country(ctx)
    lesson = await ctx.store.lessons.add(
        text=text,
        area=area.id if area else None,
        tags=tags or [],
        incident=incident,
        tlp=level,
        author=None if anonymous else ctx.sender,
        country=None if anonymous or home is None else home.code,
        room_id=ctx.room_id,
        event_id=ctx.event_id,
        now=ctx.now,
        said_to=hearers(ctx.viewer.audience),
    )
    ctx.audit_detail = f"{ShortId.LL.of(lesson.number)} {label(level)}" + (
        " anonymous" if anonymous else ""
    )
    who = _("anonymously") if anonymous else _("by {who}").format(who=ctx.sender)
    return _("✅ {id} shared {who} [{label}{inherited}].").format(
        id=ShortId.LL.of(lesson.number), who=who, label=label(level), inherited=inherited
    )


async def _label_with(ctx: Context, tlp: str | None, incident: int | None) -> tuple[str, str]:
    """A lesson's label: as given (GREEN by default), or its incident's when that is
    stricter and none was given; a lower label than the incident's is refused."""
    level = tlp or DEFAULT_TLP
    if incident is None:
        return level, ""
    linked = await ctx.store.incidents.get(incident)
    present(ctx, linked, ShortId.INC.of(incident))
    assert linked is not None
    if stricter(linked.tlp, level) == level:
        return level, ""
    if tlp is not None:
        raise CommandError(
            _(
                "{id} is {label}: a lesson linked to it cannot be {label2}; "
                "give tlp={tlp} or a stricter label"
            ).format(
                id=ShortId.INC.of(incident), label=label(linked.tlp), label2=label(tlp),
                tlp=linked.tlp,
            )
        )  # fmt: skip
    return linked.tlp, _(" (from {id})").format(id=ShortId.INC.of(incident))


@router.command(
    "lesson list",
    summary="lessons learnt, newest first, by area or tag",
    roles=READERS,
    params=[Opt("area", area, "<priority-area>"), Opt("tag", _tag, "tag")],
    example="!lesson list area=coop",
)
async def lesson_list(ctx: Context, area: Area | None, tag: str | None) -> View:
    full = ctx.viewer.audience.in_full()
    found = await ctx.store.lessons.find(in_full=full, area=area.id if area else None, tag=tag)
    return await _listing(ctx, found, None)


@router.command(
    "lesson search",
    summary="find lessons by words in their text or tags",
    roles=READERS,
    params=[Text("words", "words")],
    example="!lesson search registrar takedown",
)
async def lesson_search(ctx: Context, words: str) -> View:
    found = await ctx.store.lessons.search(words, in_full=ctx.viewer.audience.in_full())
    return await _listing(ctx, found, words)


async def _listing(ctx: Context, found: list[Lesson], searched: str | None) -> View:
    """Lessons shown in full; the others only counted, whatever was asked."""
    hidden = await ctx.store.lessons.withheld(in_full=ctx.viewer.audience.in_full())
    rows = [_row(ctx, x) for x in found]
    return listing(ctx, "lessons/list", rows, hidden=hidden, searched=searched)


async def _live(ctx: Context, number: int) -> Lesson:
    lesson = await ctx.store.lessons.get(number)
    present(ctx, lesson, ShortId.LL.of(number))
    assert lesson is not None
    check_live(ctx, lesson, ShortId.LL.of(number), lesson.author)
    return lesson


@router.command(
    "lesson edit",
    summary="correct a lesson's text, area, tags or label (kept as history)",
    roles=CONTRIBUTORS,
    params=[
        Pos("id", typed_id(ShortId.LL), "<LL-n>"),
        Opt("area", area, "<priority-area>", words=4),
        Opt("tags", csv(_tag), "a,b"),
        Opt("tlp", tlp),
        Text("text", "new text", required=False),
    ],
    example="!lesson edit LL-4 area=coop Takedown contacts cut response from days to hours",
    details="By its author or the chair (an anonymous lesson: the chair), where it may be "
    "posted. Each change is kept with its value before. The label may only go up, unless the "
    "original poster lowers it.",
)
async def lesson_edit(
    ctx: Context, id: int, area: Area | None, tags: list[str] | None, tlp: str | None, text: str
) -> str:
    lesson = await _live(ctx, id)
    if len(text) > MAX_TEXT:
        raise CommandError(
            _("the lesson is too long ({size} characters; at most {MAX_TEXT})").format(
                size=len(text), MAX_TEXT=MAX_TEXT
            )
        )
    if tlp is not None:
        check_label(ctx, lesson.author, lesson.tlp, tlp, ShortId.LL.of(id))
    changes = {
        "text": text or None,
        "area": area.id if area else None,
        "tags": pack(tags) if tags else None,
        "tlp": tlp,
    }
    return await corrected(ctx, "lesson", ShortId.LL.of(id), id, lesson, changes)


@router.command(
    "lesson withdraw",
    summary="withdraw a lesson: it leaves listings, searches and digests (kept as history)",
    roles=CONTRIBUTORS,
    params=[Pos("id", typed_id(ShortId.LL), "<LL-n>"), Text("reason", "reason")],
    example="!lesson withdraw LL-4 posted twice, see LL-5",
)
async def lesson_withdraw(ctx: Context, id: int, reason: str) -> str:
    lesson = await _live(ctx, id)
    return await withdraw(ctx, "lesson", ShortId.LL.of(id), id, lesson, reason)


@router.command(
    "lesson show",
    summary="one lesson in full",
    roles=READERS,
    params=[Pos("id", typed_id(ShortId.LL), "<LL-n>")],
    example="!lesson show LL-4",
)
async def lesson_show(ctx: Context, id: int) -> View | str:
    lesson = await ctx.store.lessons.get(id)
    present(ctx, lesson, ShortId.LL.of(id))
    assert lesson is not None
    data = _row(ctx, lesson, full=True)
    if lesson.withdrawn_at is not None:
        when = i18n.when(lesson.withdrawn_at, ctx.env.zone, "%-d %b %Y")
        return _("{id} [{label}] was withdrawn on {when}.").format(
            id=data["id"], label=data["label"], when=when
        )
    data["corrections"] = await ctx.store.corrections.of("lesson", id) if data["shown"] else []
    return View("lessons/show", data | carried(ctx))


def _row(ctx: Context, lesson: Lesson, *, full: bool = False) -> dict:
    """What this room may see of a lesson: all of it, or its ID and label."""
    seen = ctx.viewer.sees(lesson.tlp, lesson.origin_room, heard_by(lesson))
    shown = seen == Show.FULL
    data = {
        "id": ShortId.LL.of(lesson.number),
        "tlp": lesson.tlp,
        "label": label(lesson.tlp),
        "shown": shown,
        "labelled": seen >= Show.LABEL,
        "now": ctx.now,
    }
    if shown:
        text = lesson.text if full else textwrap.shorten(lesson.text, 140, placeholder=" …")
        data.update(
            text=text,
            area=lesson.area,
            tags=unpack(lesson.tags),
            incident=ShortId.INC.of(lesson.incident) if lesson.incident else None,
            author=lesson.author or "anonymous",
            country=lesson.country,
            created=lesson.created_at,
        )
    return data
