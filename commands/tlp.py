"""TLP 2.0 labels: reading them, naming them, ordering them, and refusing to post content
where its own label would not let the room see it (the rule is commands.audience)."""

from __future__ import annotations

from commands.context import Context
from commands.framework import ArgumentError, CommandError, ParseEnv, View
from commands.i18n import N_, _
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


def tlp(text: str, _env: ParseEnv) -> str:
    """`red`, `TLP:RED`, `amber+strict`, ... (case-insensitive)."""
    value = text.strip().casefold().removeprefix("tlp:")
    value = ALIASES.get(value, value)
    if value not in LEVELS:
        raise ArgumentError(
            _("{text!r} is not a TLP label; use one of: {choices}").format(
                text=text, choices=", ".join(LEVELS)
            )
        )
    return value


def label(level: str) -> str:
    return f"TLP:{level.upper()}"


def stricter(a: str, b: str) -> str:
    return a if LEVELS.index(a) >= LEVELS.index(b) else b


def most_restrictive(levels) -> str:
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


def listing(ctx: Context, template: str, rows: list[dict], *, hidden: int, **more) -> View:
    """Rows shown in full, a bare count of the rest, and the label the listing carries."""
    return View(template, {"rows": rows, "hidden": hidden, **more} | carried(ctx))


def carried(ctx: Context) -> dict[str, str | None]:
    """The label a listing carries: the most restrictive of what it shows."""
    level = ctx.viewer.label()
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
    reason = why(ctx.viewer.audience.clearance, _("it is not the room where it was posted"))
    if level == "red":
        where = _("its own encrypted room with roster members only (the room it was posted in)")
    else:
        where = _("an encrypted room where only NCPOCs and the chair can read, or a DM")
    raise CommandError(
        _("{label} cannot be posted here: {why}. Use {where}.").format(
            label=label(level), why=reason, where=where
        )
    )
