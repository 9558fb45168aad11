"""`!help` and `!whoami`: what you may do, and who the bot thinks you are."""

from __future__ import annotations

from pathlib import Path

from commands.context import Context
from commands.framework import (
    ANYONE,
    ArgumentError,
    Command,
    Pos,
    Router,
    Text,
    View,
    role_titles,
)
from commands.i18n import _
from commands.types import choice
from commands.values import fingerprint

router = Router("help", templates=Path(__file__).parent / "templates")


def _who(command: Command) -> str:
    return _("anyone") if command.roles is None else role_titles(command.roles)


def _entry(ctx: Context, command: Command) -> dict:
    """A command's help in the reader's language; the command words stay as they are."""
    return {
        "usage": command.usage(ctx.config.committee.command_prefix),
        "summary": _(command.summary),
        "details": _(command.details) if command.details else "",
        "example": command.example,
        "who": _who(command),
        "allowed": command.allows(ctx.roles),
    }


@router.command(
    "help",
    summary="list the commands you may use, or one command in full",
    roles=ANYONE,
    params=[Text("command", "command", required=False)],
    example="!help status set",
    aliases=["h", "?"],
)
async def help_(ctx: Context, command: str) -> View:
    registry = ctx.commands
    if command:
        words = command.lstrip(ctx.config.committee.command_prefix).split()
        try:
            found, used = registry.find(words[:2])
        except ArgumentError as exc:
            family = getattr(exc, "family", None)
            if family is None:
                raise
            found, used = None, 1
        family = found.family if found else family
        chosen = [found] if found and used == 2 else registry.family(family).values()
        return View("help/command", {"commands": [_entry(ctx, c) for c in chosen]})
    allowed = [c for c in registry.commands if c.allows(ctx.roles)]
    return View(
        "help/list",
        {
            "commands": [_entry(ctx, c) for c in allowed],
            "roles": role_titles(ctx.roles),
            "prefix": ctx.config.committee.command_prefix,
        },
    )


@router.command(
    "whoami",
    summary="your role(s), country and session as the bot sees them (`!whoami bot`: its keys)",
    roles=ANYONE,
    params=[Pos("who", choice("bot"), "bot", optional=True)],
    example="!whoami",
    details="It says whether the session (device) you use counts: the bot obeys commands only "
    "from sessions you have verified (cross-signed), and shows your master key's fingerprint "
    "to compare when the chair confirms a new identity. `!whoami bot` shows the bot's device "
    "and the fingerprint of its cross-signing master key, to compare out of band before "
    "trusting it.",
)
async def whoami(ctx: Context, who: str | None) -> View:
    if who == "bot":
        return View("help/bot", {"info": ctx.identity})
    country = None
    if ctx.member and ctx.member.country:
        found = ctx.env.reference.countries.by_code.get(ctx.member.country)
        country = f"{found.name} ({found.code})" if found else ctx.member.country
    return View(
        "help/whoami",
        {
            "user": ctx.sender,
            "roles": role_titles(ctx.roles),
            "country": country,
            "prefix": ctx.config.committee.command_prefix,
            "device": ctx.device_id,
            "counts": ctx.device_counts,
            "key": fingerprint(ctx.master_key) if ctx.master_key else None,
            "trusted": ctx.identity_trusted,
        },
    )
