"""TLP 2.0 labels: reading them, naming them, ordering them, and refusing to post content
where its own label would not let the room see it (the rule is commands.audience)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from commands.audience import Show, Viewer, heard_by
from commands.context import Context
from commands.framework import ArgumentError, CommandError, Labelled, ParseEnv, View, one_of
from commands.i18n import N_, _
from commands.types import plain
from commands.values import Clearance

LEVELS = ("clear", "green", "amber", "amber+strict", "red")  # least to most restrictive
ALIASES = {"amber-strict": "amber+strict", "amber_strict": "amber+strict", "white": "clear"}
# TLP 2.0 colours, shown on black as the standard asks.
COLOURS = {
    "clear": "#FFFFFF",
    "green": "#33FF00",
    "amber": "#FFC000",
    "amber+strict": "#FFC000",
    "red": "#FF2B2B",
}


def spelled(text: str) -> str:
    """A label as typed (`[TLP:AMBER-STRICT]`, `tlp:white`, a phone's dashes) spelled as the
    bot spells it (`amber+strict`, `clear`); not checked to be one."""
    value = plain(text).strip().strip("[]").casefold().removeprefix("tlp:").strip()
    return ALIASES.get(value, value)


def _tlp(text: str, _env: ParseEnv) -> str:
    """`red`, `TLP:RED`, `[TLP:RED]`, `amber+strict`, ... (case-insensitive): the bot's own
    notation is read back."""
    value = spelled(text)
    if value not in LEVELS:
        raise ArgumentError(
            _("{text!r} is not a TLP label; use one of: {choices}").format(
                text=text, choices=", ".join(LEVELS)
            )
        )
    return value


tlp = Labelled(_tlp, one_of(LEVELS))
# Where RED is refused (said so by the command, with why): the same words, RED not offered.
tlp_below_red = Labelled(_tlp, one_of(LEVELS[:-1]))


def label(level: str) -> str:
    return f"TLP:{level.upper()}"


def stricter(a: str, b: str) -> str:
    return a if LEVELS.index(a) >= LEVELS.index(b) else b


def most_restrictive(levels: Iterable[str]) -> str:
    result = "clear"
    for level in levels:
        result = stricter(result, level)
    return result


WHY = {
    Clearance.PUBLIC: N_("this room is public (anyone may join it or read its history)"),
    Clearance.OUTSIDER: N_(
        "someone who is not on the roster can read this room (a member or an "
        "invited person), or it is not encrypted"
    ),
    Clearance.STEERING: N_(
        "people outside the RCC (Steering Committee members or admins) can read this room"
    ),
}


def why(clearance: Clearance, otherwise: str) -> str:
    """Why a room of this clearance may not see something, in the language being written."""
    return _(WHY[clearance]) if clearance in WHY else otherwise


def listing(ctx: Context, template: str, rows: list[dict], *, hidden: int, **more: Any) -> View:
    """Rows shown in full, a bare count of the rest, and the label the listing carries."""
    return View(template, {"rows": rows, "hidden": hidden, **more} | carried(ctx))


def carried(ctx: Context) -> dict[str, str | None]:
    """The label a listing carries: the most restrictive of what it shows."""
    return carried_by(ctx.viewer)


def carried_by(viewer: Viewer) -> dict[str, str | None]:
    """The label an output carries, from the viewer that chose what it shows (a template
    showing records is written only with it: bot.outbox)."""
    level = viewer.label()
    return {"carried": label(level) if level else None}


IDENTITY_WAITS = N_(
    "this session is signed under a new cross-signing identity, which the bot does not accept "
    "yet: until the chair confirms its fingerprint ({prefix}roster trust, after comparing it "
    "with you; {prefix}whoami shows it), the bot answers this session only to {prefix}help "
    "and {prefix}whoami. If you did not reset your identity, someone else has your password: "
    "tell the chair now. The bot says this once per session."
)


def check_postable(level: str, ctx: Context) -> None:
    """Refuse content this room may not see in full; nothing is stored then. Posting,
    updating and closing an item are allowed only where it may be posted."""
    if ctx.viewer.may_post(level):
        return
    audience = ctx.viewer.audience
    reason = why(audience.clearance, _("it is not the room where it was posted"))
    if level == "red" and audience.clearance >= Clearance.RCC and audience.history_shared:
        reason = _("new members of this room can read what was said before they joined")
    if level == "red":
        where = _("its own encrypted room with roster members only (the room it was posted in)")
    else:
        where = _("an encrypted room where only NCPOCs and the chair can read, or a DM")
    raise CommandError(
        _("{label} cannot be posted here: {why}. Use {where}.").format(
            label=label(level), why=reason, where=where
        )
    )


def said(ctx: Context, given: str | None) -> str:
    """The label of what a person writes here (minutes, an action, a project, a motion, a
    relay note): as they say, else AMBER — said in a committee room or a DM, it goes no
    further unless they say so. TLP:RED only where later joiners cannot read back."""
    level = given or "amber"
    if level == "red" and not ctx.viewer.may_post("red"):
        raise CommandError(
            _(
                "TLP:RED cannot be said here: {why}. Use a room of NCPOCs and the chair alone "
                "whose history new members cannot read, or a DM"
            ).format(why=why(ctx.viewer.audience.clearance, _("new members could read it")))
        )
    return level


def seen_rows(
    viewer: Viewer, records: Iterable[Any], row: Callable[[Any], dict]
) -> tuple[list[dict], int]:
    """The records this viewer may see in full, as rows carrying their label, and how many
    others there are (a bare count: nothing of them is said)."""
    rows, hidden = [], 0
    for record in records:
        if viewer.in_full(record.tlp, record.origin_room, heard_by(record)):
            rows.append(row(record) | {"label": label(record.tlp)})
        else:
            hidden += 1
    return rows, hidden


def present(ctx: Context, record: Any, name: str) -> None:
    """A record this room may not see at all is, here, no record: the same words as for an
    ID nobody ever used, and no label named (a hidden ID and a missing one must not be told
    apart)."""
    if (
        record is None
        or ctx.viewer.audience.show(record.tlp, record.origin_room, heard_by(record))
        == Show.NOTHING
    ):
        raise CommandError(_("there is no {id}").format(id=name))
