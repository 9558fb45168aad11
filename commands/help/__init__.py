"""`!help` and `!whoami`: what you may do, and who the bot thinks you are."""

from __future__ import annotations

from pathlib import Path

from commands.context import Context
from commands.framework import (
    ANYONE,
    ArgumentError,
    Command,
    Pos,
    Role,
    Router,
    Text,
    View,
    role_titles,
)
from commands.i18n import N_, _
from commands.types import choice
from commands.values import fingerprint

router = Router(
    "help",
    templates=Path(__file__).parent / "templates",
    topic=N_("help and how the bot sees you"),
)


# Five things to start with, by role, in plain words with a command that works as shown; the
# first of the reader's roles in this order chooses (tests/test_help.py runs every example).
FIRST = (Role.CHAIR, Role.NCPOC, Role.STEERING, Role.RIFC, Role.ADMIN, Role.CONTACT)
START: dict[Role | None, tuple[tuple[str, str], ...]] = {
    Role.NCPOC: (
        (N_("say where your country stands on an item of the plan"),
         "!status set legal.strategy in-progress Draft with Cabinet"),
        (N_("see what your country still has to do"), "!gaps"),
        (N_("report an incident to the region"),
         "!incident new severity=high tlp=amber Phishing wave against bank customers"),
        (N_("share a lesson learnt"), "!lesson add Keep an offline copy of the contact list"),
        (N_("acknowledge an emergency broadcast"), "!ack"),
    ),
    Role.CHAIR: (
        (N_("see where every country stands"), "!status"),
        (N_("practise an emergency broadcast"), "!drill Quarterly check of the phone tree"),
        (N_("add a national point of contact"),
         "!roster add @name:example.org role=ncpoc country=JM"),
        (N_("set a reporting deadline with reminders"),
         "!deadline add 2027-01-15 Q4 status report"),
        (N_("draft the digest for the Steering Committee"), "!digest"),
    ),
    Role.STEERING: (
        (N_("see where every country stands"), "!status"),
        (N_("read the digest"), "!digest"),
        (N_("see the open incidents"), "!incident list"),
        (N_("see the decisions taken"), "!decisions"),
        (N_("the report for the Steering Committee"), "!report steering"),
    ),
    Role.RIFC: (
        (N_("see the open incidents"), "!incident list"),
        (N_("read one incident in full, with its indicators"), "!incident show INC-1"),
        (N_("export the month's incidents for MISP (in a DM)"), "!export misp period=last-30d"),
        (N_("the report to the Heads of Intelligence"), "!report heads"),
        (N_("how the bot sees you"), "!whoami"),
    ),
    Role.ADMIN: (
        (N_("see who is on the roster"), "!roster"),
        (N_("add a national contact"),
         "!roster add @soc:example.org role=contact kind=cirt country=JM"),
        (N_("see a country's national contacts"), "!contacts JM"),
        (N_("correct a contact's details"), "!contact update @soc:example.org phone=+18765550100"),
        (N_("how the bot sees you"), "!whoami"),
    ),
    Role.CONTACT: (
        (N_("acknowledge an emergency broadcast"), "!ack"),
        (N_("say you passed a broadcast on in your country"),
         "!relayed BC-3 sent to the sector CSIRTs"),
        (N_("confirm your details are still right"), "!confirm"),
        (N_("correct your phone number"), "!contact update phone=+18765550100"),
        (N_("choose the language the bot writes to you in"), "!lang fr"),
    ),
    None: ((N_("how the bot sees you, and whether your session counts"), "!whoami"),),
}  # fmt: skip


def start_for(roles: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """What a reader with these roles is shown first."""
    role = next((r for r in FIRST if r in roles), None)
    return START[role]


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
    prefix = ctx.config.committee.command_prefix
    topic = registry.topics.get(command.strip().casefold())
    if topic is not None:  # `!help incidents`: a family's commands, with their examples
        return _topic(ctx, command.strip().casefold(), *topic)
    if command:
        words = command.lstrip(prefix).split()
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
    start = [{"text": _(text), "example": _prefixed(example, prefix)} for text, example
             in start_for(ctx.roles)]  # fmt: skip
    topics = [
        {"name": name, "about": _(about)}
        for name, (about, commands) in registry.topics.items()
        if any(c.allows(ctx.roles) for c in commands)
    ]
    data = {"start": start, "topics": topics, "roles": role_titles(ctx.roles), "prefix": prefix}
    return View("help/list", data | {"member": bool(ctx.roles)})


def _topic(ctx: Context, name: str, about: str, commands: list[Command]) -> View:
    """One family's commands the reader may use: what each does and an example."""
    allowed = [_entry(ctx, c) for c in commands if c.allows(ctx.roles)]
    prefix = ctx.config.committee.command_prefix
    return View("help/topic", {"name": name, "about": _(about), "commands": allowed,
                               "prefix": prefix})  # fmt: skip


def _prefixed(example: str, prefix: str) -> str:
    """An example as the committee types it (its prefix may not be `!`)."""
    return prefix + example.removeprefix("!")


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
