"""TLP 2.0, enforced: where an item's details may be shown and where it may be posted.

- CLEAR, GREEN: shown in full everywhere.
- AMBER, AMBER+STRICT: only in the RCC room and in direct messages with roster members.
- RED: only in the room where it was posted; refused in an unencrypted room.
Anywhere else an item shows its ID, severity and label, and "details withheld".
"""

from __future__ import annotations

from commands.context import Context
from commands.framework import ArgumentError, CommandError, ParseEnv
from commands.values import RoomKind

LEVELS = ("clear", "green", "amber", "amber+strict", "red")  # least to most restrictive
ALIASES = {"amber-strict": "amber+strict", "amber_strict": "amber+strict", "white": "clear"}
RCC_ROOMS = (RoomKind.RCC, RoomKind.DIRECT)  # where AMBER may be shown and posted
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
        raise ArgumentError(f"{text!r} is not a TLP label; use one of: {', '.join(LEVELS)}")
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


def may_show(level: str, origin_room: str, ctx: Context) -> bool:
    """Whether an item's details may appear in the room the command came from."""
    if level in ("clear", "green"):
        return True
    if level == "red":
        return ctx.room_id == origin_room
    return ctx.room_kind in RCC_ROOMS and ctx.member is not None


def check_postable(level: str, ctx: Context) -> None:
    """Refuse content in a room its label does not allow (nothing is stored then)."""
    if level == "red" and not ctx.encrypted:
        raise CommandError(
            "TLP:RED is refused in an unencrypted room; post it in an encrypted room"
        )
    if level in ("amber", "amber+strict") and ctx.room_kind not in RCC_ROOMS:
        raise CommandError(
            f"{label(level)} stays within the RCC: post it in the RCC room or in a direct "
            "message with the bot"
        )
