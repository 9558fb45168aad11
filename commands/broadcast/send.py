"""`!broadcast`, `!ack`, `!broadcast status`: reach every national contact, count who answered.

The command persists the broadcast and every recipient, and puts the RCC-room message in the
outbox, in one transaction. The broadcast job then gives each NCPOC a direct message (opening
an encrypted DM where none exists) and re-notifies the silent; every delivery is an outbox row
with a stable transaction ID, linked to its recipient, so a restart finishes what is missing
and never sends a copy twice.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from commands.audience import Audience, Show, heard_by, sealed
from commands.broadcast import hold
from commands.broadcast.acks import is_ack_reaction, is_ack_text
from commands.broadcast.escalation import AUDIENCES, Step, check_targets, default_chain, tiers
from commands.broadcast.rollcall import audience_words, drill_report, elapsed, roll_call
from commands.context import Context
from commands.directory import TIER_ORDER, contact_id, email_only, ranked, shown, stand_in
from commands.framework import (
    CHAIR_ONLY,
    NATIONAL,
    READERS,
    ArgumentError,
    CommandError,
    Input,
    Opt,
    ParseEnv,
    Pos,
    Refused,
    Role,
    Router,
    Text,
    View,
)
from commands.i18n import N_, _
from commands.parsing import strip_reply_fallback
from commands.sections import Duration, Section, Sections
from commands.tlp import carried, label, said, stricter, tlp, tlp_below_red, why
from commands.types import choice, typed_id, yes_no
from commands.values import CHROME, Ref, RefKind, RoomKind, Seal, ShortId
from storage.broadcasts import Broadcast, BroadcastRecipient, Recipient
from storage.incidents import Incident, IncidentUpdate
from storage.stores import Stores

router = Router(
    "broadcast",
    templates=Path(__file__).parent / "templates",
    topic=N_("emergency broadcasts and their acknowledgements"),
)

JOB = "broadcast"  # the job that delivers a broadcast's DMs (commands.broadcast.deliver)
LIVE = "broadcast roll-call"  # the job that keeps its roll-call current (commands.broadcast.live)

SEVERITIES = ("info", "high", "critical")
BROADCAST_ID = typed_id(ShortId.BC)
MENTIONED = ShortId.BC.pattern()
INCIDENT_ID = typed_id(ShortId.INC)
MAX_MESSAGE = 4000


def ref(broadcast: Broadcast) -> Ref:
    return Ref(RefKind.BROADCAST, broadcast.key)


def announcement(broadcast: Broadcast, recipients: list[str], **extra: Any) -> View:
    data = {
        "id": ShortId.BC.of(broadcast.number),
        "severity": broadcast.severity,
        "exercise": broadcast.exercise,
        "tlp": label(broadcast.tlp),
        "message": broadcast.message,
        "sender": broadcast.sender,
        "recipients": recipients,
        "audience": audience_words(broadcast.audience),
        "personal": None,
        "round": 0,
        "country": None,
        "by_email": 0,
        "carried": label(broadcast.tlp),
    }
    data.update(extra)
    return View("broadcast/message", data)


def copy_seal(broadcast: Broadcast, people: frozenset[str]) -> Seal:
    """A broadcast's copy, sealed with its label: TLP:RED bound to `people` (those it is for)."""
    return sealed(broadcast.tlp, people) if broadcast.tlp == "red" else Seal(broadcast.tlp)


def _audience(text: str, _env: ParseEnv) -> list[str]:
    try:
        return list(check_targets(text.split(","), AUDIENCES))
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None


BROADCAST_PARAMS = [
    Opt("to", _audience, "<all|ncpocs|contacts|cirt,le-24x7,..>"),
    Opt("tlp", tlp),
    Opt("severity", choice(*SEVERITIES)),
]


@router.command(
    "broadcast",
    summary="an emergency message to every national contact: the RCC room and a DM to each",
    roles=CHAIR_ONLY,
    params=[
        *BROADCAST_PARAMS,
        Opt("exercise", yes_no, "yes"),
        Opt("from", INCIDENT_ID, "INC-n"),
        Text("message", "message", required=False),
    ],
    example="!broadcast severity=critical Ransomware spreading via VPN appliances; patch now",
    details="to= chooses who (default all: NCPOCs and national contacts); tlp= labels every "
    "copy (default from the config). Acknowledge with !ack BC-n, a reply that is only 'ack' "
    "(or received, reçu, ontvangen, recibido), or a ✅/👍 reaction; a country counts as "
    "acknowledged when any of its recipients does. "
    "Countries still dark are escalated along the configured chain; the chair can record an "
    "acknowledgement obtained by phone (!ack BC-n for=@user via=phone), and each country "
    "confirms onward dissemination with !relayed BC-n. exercise=yes (or !drill) marks every "
    "message of a drill EXERCISE. from=INC-n sends an incident you may read in full: its "
    "label (tlp= may only raise it), its severity and its summary, then your words.",
)
async def broadcast(
    ctx: Context,
    to: list[str] | None,
    tlp: str | None,
    severity: str | None,
    exercise: bool | None,
    from_: int | None,
    message: str,
) -> str | None:
    if from_ is not None:
        incident = await _readable_incident(ctx, from_)
        level = _at_least(incident.tlp, tlp)
        text = _incident_message(incident, await ctx.store.incidents.history(incident), message)
        severity = severity or INCIDENT_SEVERITY[incident.severity]
        return await send(
            ctx, text, to=to, level=level, severity=severity, exercise=bool(exercise),
            incident=incident,
        )  # fmt: skip
    if not message:
        raise CommandError(_("say the message to send (or from=INC-n for an incident)"))
    return await _broadcast(ctx, message, to=to, level=tlp, severity=severity, exercise=exercise)


# An incident's severity as a broadcast's (a broadcast has no low or medium).
INCIDENT_SEVERITY = {"low": "info", "medium": "info", "high": "high", "critical": "critical"}


async def _readable_incident(ctx: Context, number: int) -> Incident:
    """The incident, if the chair may read it in full here: a broadcast carries its content."""
    name = ShortId.INC.of(number)
    incident = await ctx.store.incidents.get(number)
    if incident is None:
        raise CommandError(_("there is no {id}").format(id=name))
    if not ctx.viewer.in_full(incident.tlp, incident.origin_room, heard_by(incident)):
        raise Refused(
            _(
                "{id} is {label} and this room may not read it in full, so it cannot be "
                "broadcast from here: ask {reporter}, or broadcast your own words"
            ).format(id=name, label=label(incident.tlp), reporter=incident.reporter)
        )
    return incident


def _at_least(level: str, asked: str | None) -> str:
    """The incident's label, or a stricter one asked for; never a lower one."""
    if asked is None or asked == level:
        return level
    if stricter(asked, level) != asked:
        raise CommandError(
            _("a broadcast of an incident keeps its label {label} or a stricter one").format(
                label=label(level)
            )
        )
    return asked


def _incident_message(incident: Incident, history: list[IncidentUpdate], words: str) -> str:
    """What the broadcast says: the incident's ID, severity and title, its latest update
    (or closing summary), then the chair's own words."""
    latest = next((h.note for h in reversed(history) if h.note and h.kind != "escalated"), "")
    parts = [f"{ShortId.INC.of(incident.number)} ({incident.severity}): {incident.title}"]
    parts += [p for p in (latest, words) if p]
    return "\n".join(parts)


async def _broadcast(
    ctx: Context,
    message: str,
    *,
    to: list[str] | None,
    level: str | None,
    severity: str | None,
    exercise: bool | None,
) -> str | None:
    if not exercise and hold.looks_like_a_test(message):
        await _checked(ctx, message, to=to, level=level)  # what would refuse it, said now
        await _hold(ctx, hold.Held(message, to, level, severity, ctx.now.isoformat()))
        return None
    return await send(ctx, message, to=to, level=level, severity=severity, exercise=bool(exercise))


async def _hold(ctx: Context, held: hold.Held) -> None:
    """Not sent: the chair is pointed at !drill, and told how to send it after all."""
    await hold.keep(ctx, held)
    ctx.audit_detail = "held: it looks like a test"
    prefix = ctx.config.committee.command_prefix
    await ctx.reply(
        _(
            "⏸️ Nothing was sent: this looks like a test. To test the chain, use {prefix}drill "
            "(every message is marked EXERCISE, with a per-country report). To send it as a "
            "real emergency to every national contact, write {prefix}broadcast confirm or "
            "react ✅ to this message within {minutes} minutes."
        ).format(prefix=prefix, minutes=int(hold.HOLD_FOR.total_seconds() // 60)),
        ref=Ref(RefKind.HELD, 0),
        seal=CHROME,
    )


@router.command(
    "broadcast confirm",
    summary="send the broadcast the bot held as a likely test, as it was typed",
    roles=CHAIR_ONLY,
    params=[*BROADCAST_PARAMS, Opt("exercise", yes_no, "yes"), Text("message", "message", False)],
    example="!broadcast confirm",
    details="A !broadcast whose text says test, or is shorter than 15 characters, is held "
    "for 2 minutes rather than sent; this sends it (so does a ✅ on the bot's answer). A "
    "broadcast whose text begins with the word confirm is sent as a broadcast.",
)
async def broadcast_confirm(
    ctx: Context,
    to: list[str] | None,
    tlp: str | None,
    severity: str | None,
    exercise: bool | None,
    message: str,
) -> str | None:
    if message:  # `!broadcast Confirm your fallback channel`: a broadcast, not a confirmation
        message = f"Confirm {message}"
        return await _broadcast(
            ctx, message, to=to, level=tlp, severity=severity, exercise=exercise
        )
    return await _confirm(ctx)


async def _confirm(ctx: Context) -> str | None:
    held = await hold.take(ctx)
    if held is None:
        raise CommandError(
            _("no broadcast of yours is waiting to be confirmed (they wait {minutes} minutes)")
            .format(minutes=int(hold.HOLD_FOR.total_seconds() // 60))
        )  # fmt: skip
    ctx.audit_detail = "confirmed"
    return await send(
        ctx, held.message, to=held.to, level=held.level, severity=held.severity, exercise=False
    )


@router.command(
    "drill",
    summary="a broadcast marked EXERCISE, with a per-country report",
    roles=CHAIR_ONLY,
    params=[*BROADCAST_PARAMS, Text("message", "message")],
    example="!drill Quarterly communications check: acknowledge and relay as for a real alert",
    details="The same as !broadcast exercise=yes. `!broadcast status BC-n` reports, per "
    "country: reached, time to the first acknowledgement, relayed, and the change since the "
    "previous drill.",
)
async def drill(
    ctx: Context, to: list[str] | None, tlp: str | None, severity: str | None, message: str
) -> str | None:
    return await send(ctx, message, to=to, level=tlp, severity=severity or "info", exercise=True)


async def send(
    ctx: Context,
    message: str,
    *,
    to: list[str] | None,
    level: str | None,
    severity: str | None,
    exercise: bool,
    incident: Incident | None = None,
) -> str | None:
    rcc, level, audience, present, unreachable, room = await _checked(
        ctx, message, to=to, level=level
    )
    sent = await ctx.store.broadcasts.create(
        message=message, severity=severity or "high", exercise=exercise, tlp=level,
        audience=",".join(audience), sender=ctx.sender, room_id=rcc,
        recipients=list(present.values()), now=ctx.now,
    )  # fmt: skip
    if incident is not None:  # the incident's history says where it went
        await ctx.store.incidents.update(
            incident, kind="broadcast", note=ShortId.BC.of(sent.number), status=None,
            severity=None, author=ctx.sender, room_id=ctx.room_id, event_id=ctx.event_id,
            now=ctx.now,
        )  # fmt: skip
    countries = {r.country for r in present.values()}
    ctx.audit_detail = (
        f"{ShortId.BC.of(sent.number)} {sent.severity} {label(level)} to {len(present)} in "
        f"{len(countries)} countries ({sent.audience})" + (" exercise" if sent.exercise else "")
    )
    ctx.wake(JOB, sent.key)
    ctx.wake(LIVE, sent.key)
    await _announce(ctx, sent, present, rcc, room)
    here = rcc == ctx.room_id
    return _confirmation(sent, present, len(countries), len(unreachable), here=here)


async def _checked(
    ctx: Context, message: str, *, to: list[str] | None, level: str | None
) -> tuple[str, str, list[str], dict[str, Recipient], list[str], Audience]:
    """Everything that would refuse a broadcast, checked before anything is written: its
    length, the RCC room known and allowed its label, someone to reach. Returns the RCC room,
    the label, the audience, who is reached and who not, and the RCC room's readers."""
    if len(message) > MAX_MESSAGE:
        raise CommandError(
            _("the message is too long (at most {MAX_MESSAGE} characters)").format(
                MAX_MESSAGE=MAX_MESSAGE
            )
        )
    rcc = ctx.rooms.get(RoomKind.RCC) or (ctx.room_id if ctx.room_kind == RoomKind.RCC else None)
    if rcc is None:
        raise CommandError(
            _("the RCC room is not known yet; send the broadcast from the RCC room")
        )
    level = level or ctx.config[BroadcastConfig].default_tlp
    audience = to or ["all"]
    present, unreachable = await _recipients(ctx, audience)
    room = await ctx.audience_of(rcc)
    if room.show(level, rcc) != Show.FULL:
        raise Refused(
            _("the RCC room may not show {label}: {why}").format(
                label=label(level), why=why(room.clearance, _("its readers"))
            )
        )
    return rcc, level, audience, present, unreachable, room


async def _announce(
    ctx: Context, sent: Broadcast, present: dict[str, Recipient], rcc: str, room: Audience
) -> None:
    """The RCC room's copy, mentioning everyone on Matrix: for that room's readers
    (TLP:RED: those in it now) and no others."""
    users = [u for u in present if not email_only(u)]  # the rest are emailed
    in_room = (room.members or frozenset()) if sent.tlp == "red" else None
    await ctx.reply(
        announcement(sent, users, by_email=len(present) - len(users)),
        mentions=users,
        room_id=None if rcc == ctx.room_id else rcc,
        ref=ref(sent),
        alert=True,
        seal=sealed(sent.tlp, in_room),
    )


async def _recipients(ctx: Context, audience: list[str]) -> tuple[dict[str, Recipient], list[str]]:
    """Who a broadcast reaches, each once: the audience's national contacts, whoever is away
    stood in for by the colleague they named (in their place in the chain); and the
    email-only contacts left out because no SMTP server is set up."""
    wanted = tiers(audience)
    entries = await ctx.store.roster.national()
    rank = ranked(entries)
    chosen = [e for e in entries if rank[e.id] in wanted]
    if not chosen:
        raise CommandError(
            _("there is nobody on the roster to reach ({audience_words})").format(
                audience_words=audience_words(",".join(audience))
            )
        )
    present: dict[str, Recipient] = {}
    for e in sorted(chosen, key=lambda e: TIER_ORDER.index(rank[e.id])):
        user = stand_in(e, ctx.now, entries)
        email = e.email if user == e.user_id else None
        present.setdefault(user, Recipient(user, e.country, rank[e.id], email))
    # Contacts without a Matrix account are emailed at once; without an SMTP server, not at all.
    unreachable = [u for u in present if email_only(u)] if email_after(ctx.config) is None else []
    for user in unreachable:
        del present[user]
    if not present:
        raise CommandError(_("nobody on the roster can be reached: the only ones are by email"))
    return present, unreachable


def _confirmation(
    sent: Broadcast, present: dict[str, Recipient], countries: int, unreachable: int, *, here: bool
) -> str | None:
    """What the chair reads back: where it went (unless they see it posted), and who could
    not be reached for want of an SMTP server."""
    warning = (
        " "
        + _(
            "⚠️ {n} email-only contact(s) were not reached: the bot has no [smtp] server "
            "configured."
        ).format(n=unreachable)
        if unreachable
        else ""
    )
    if here:
        return warning.strip() or None
    return (
        _(
            "✅ {id} ({label}) is on its way to the RCC room and to {people} contacts in "
            "{countries} countries; you will be told of any message that cannot be delivered, "
            "and `!broadcast status` shows who acknowledged."
        ).format(
            id=ShortId.BC.of(sent.number), label=label(sent.tlp), people=len(present),
            countries=countries,
        )
        + warning
    )  # fmt: skip


async def _target(ctx: Context, number: int | None) -> Broadcast:
    if number is not None:
        found = await ctx.store.broadcasts.get(number)
        if found is None:
            raise CommandError(_("there is no {id}").format(id=ShortId.BC.of(number)))
        return found
    found = await ctx.store.broadcasts.pending_for(ctx.sender)
    if found is None:
        raise CommandError(_("you have no broadcast waiting for an acknowledgement"))
    return found


OUTSIDE = ("phone", "sms", "email", "in-person", "other")  # how an ack may reach the chair


@router.command(
    "ack",
    summary="acknowledge a broadcast (the newest one you have not, by default)",
    roles=NATIONAL | CHAIR_ONLY,  # those a broadcast reaches; the chair records others' acks
    params=[
        Pos("id", BROADCAST_ID, "BC-n", optional=True),
        Opt("for", contact_id, "@user|email"),
        Opt("via", choice(*OUTSIDE)),
        Text("rest", "words", False),
    ],
    example="!ack BC-3",
    details="The chair records an acknowledgement obtained outside Matrix with "
    "`!ack BC-n for=@user via=phone`.",
)
async def ack(ctx: Context, id: int | None, for_: str | None, via: str | None, rest: str) -> str:
    if for_ is None:
        if via is not None:
            raise CommandError(_("via= goes with for=@user: the chair recording someone's ack"))
        target = await _target(ctx, id)
        recipient = await ctx.store.broadcasts.recipient(target.key, ctx.sender)
        if recipient is None:
            raise CommandError(
                _("{id} was not sent to you; there is nothing to ack").format(
                    id=ShortId.BC.of(target.number)
                )
            )
        return await acknowledge(ctx, target, recipient, "command")
    if not ctx.has_role(Role.CHAIR):
        raise Refused(_("only the chair records an acknowledgement on someone's behalf"))
    if id is None:
        raise CommandError(_("name the broadcast: !ack BC-n for=@user via=phone"))
    target = await _target(ctx, id)
    recipient = await ctx.store.broadcasts.recipient(target.key, for_)
    if recipient is None:
        raise CommandError(
            _("{id} was not sent to {shown}").format(
                id=ShortId.BC.of(target.number), shown=shown(for_)
            )
        )
    return await acknowledge(ctx, target, recipient, via or "phone", recorded=True)


async def acknowledge(
    ctx: Context,
    target: Broadcast,
    recipient: BroadcastRecipient,
    via: str,
    *,
    recorded: bool = False,
) -> str:
    label_ = "EXERCISE " if target.exercise else ""
    number = ShortId.BC.of(target.number)
    who = f"{shown(recipient.user_id)} " if recorded else "you "
    if recipient.acked_at is not None:
        when = recipient.acked_at.astimezone(ctx.env.zone)
        return _("{label}{number}: {who}acknowledged it already ({when:%H:%M}).").format(
            label=label_, number=number, who=who, when=when
        )
    await ctx.store.broadcasts.acknowledge(
        recipient,
        via=via,
        event_id=ctx.event_id,
        now=ctx.now,
        recorded_by=ctx.sender if recorded else None,
    )
    ctx.audit_detail = f"{number} ack by {via}" + (f" for {recipient.user_id}" if recorded else "")
    ctx.tally("acks", via)
    ctx.wake(JOB, target.key)  # the country's escalation stops; its relay is awaited
    ctx.wake(LIVE, target.key)  # the live roll-call shows it
    everyone = await ctx.store.broadcasts.recipients(target.key)
    countries = {r.country for r in everyone}
    answered = {r.country for r in everyone if r.acked_at is not None}
    took = elapsed(ctx.now - target.created_at)
    whose = f" for {shown(recipient.user_id)} ({via})" if recorded else ""
    return (
        f"✅ {label_}{number} acknowledged{whose} ({took} after it was sent); "
        f"{len(answered)}/{len(countries)} countries so far."
        + (
            ""
            if recorded or recipient.relayed_at
            else " Once you have passed it on in your country: "
            f"{ctx.config.committee.command_prefix}relayed "
            f"{number}"
        )
    )


def _is_ack(said: Input) -> bool:
    """A ✅/👍 reaction, or a reply (or, in a DM, a message) that is an acknowledgement and
    nothing else (commands.broadcast.acks)."""
    if said.reaction is not None:
        return is_ack_reaction(said.reaction)
    if not (said.reply_to or said.is_direct):
        return False
    return is_ack_text(strip_reply_fallback(said.body))


@router.listener("ack", accepts=_is_ack)
async def ack_by_event(ctx: Context, said: Input) -> str | None:
    """An acknowledgement by a reply that is an acknowledgement word or by a ✅/👍 reaction.

    The broadcast is found from a BC-n in the text (clients quote the original in a reply),
    else from the event replied or reacted to, else (in a DM) the newest one not acknowledged.
    Anything that is not a recipient's first acknowledgement is ignored quietly. A ✅ on the
    bot's answer to a broadcast it held as a likely test is the chair's confirmation instead.
    """
    found = None
    if said.reaction is None and (match := MENTIONED.search(said.body)):
        found = await ctx.store.broadcasts.get(int(match.group(1)))
    if found is None and said.reply_to:
        tag = Ref.parse(await ctx.store.outbox.ref_of(said.reply_to))
        if tag is not None and tag.kind == RefKind.HELD:
            return await _confirmed_by(ctx, said)
        if tag is not None and tag.kind == RefKind.BROADCAST:
            found = await ctx.store.broadcasts.by_id(tag.key)
    if found is None and ctx.is_direct:
        found = await ctx.store.broadcasts.pending_for(ctx.sender)
    if found is None:
        return None
    recipient = await ctx.store.broadcasts.recipient(found.key, ctx.sender)
    if recipient is None or recipient.acked_at is not None:
        return None
    return await acknowledge(ctx, found, recipient, "reaction" if said.reaction else "reply")


def _is_other_reply(said: Input) -> bool:
    return said.reaction is None and said.reply_to is not None


@router.listener("broadcast reply", accepts=_is_other_reply)
async def reply_not_an_ack(ctx: Context, said: Input) -> str | None:
    """A recipient's reply to a broadcast that is not an acknowledgement ("Received,
    thanks"): they are told, in one line, how to acknowledge, rather than left believing."""
    tag = Ref.parse(await ctx.store.outbox.ref_of(said.reply_to or ""))
    if tag is None or tag.kind != RefKind.BROADCAST:
        return None
    found = await ctx.store.broadcasts.by_id(tag.key)
    recipient = await ctx.store.broadcasts.recipient(found.key, ctx.sender) if found else None
    if found is None or recipient is None or recipient.acked_at is not None:
        return None
    number = ShortId.BC.of(found.number)
    return _(
        "ℹ️ Your reply was not taken as an acknowledgement of "
        "{number}: reply with “ack”, react ✅, or send {prefix}ack "
        "{number}."
    ).format(number=number, prefix=ctx.config.committee.command_prefix)


async def _confirmed_by(ctx: Context, said: Input) -> str | None:
    """A ✅ from the chair on the bot's answer to a held broadcast sends it."""
    if said.reaction != "✅" or not ctx.has_role(Role.CHAIR):
        return None
    try:
        return await _confirm(ctx)
    except (CommandError, Refused) as exc:  # a listener answers in words, not as a command
        return f"⚠️ {exc.message}"


@router.command(
    "relayed",
    summary="confirm that a broadcast was passed on within your country",
    roles=NATIONAL,  # those a broadcast reaches
    params=[
        Pos("id", BROADCAST_ID, "BC-n"),
        Opt("tlp", tlp_below_red),
        Text("note", "note", False),
    ],
    example="!relayed BC-3 sent to the sector CSIRTs and the telecoms regulator",
    details="Section 4 of the Action Plan: NCPOCs disseminate to the other points of contact "
    "in their jurisdiction. Any recipient of the broadcast in your country may confirm it; the "
    "roll-call shows it per country. The note is AMBER unless you say tlp=.",
)
async def relayed(ctx: Context, id: int, tlp: str | None, note: str) -> str:
    target = await _target(ctx, id)
    number = ShortId.BC.of(target.number)
    mine = await ctx.store.broadcasts.recipient(target.key, ctx.sender)
    if mine is None:
        raise CommandError(
            _("{number} was not sent to you; a recipient in your country confirms").format(
                number=number
            )
        )
    country = [
        r for r in await ctx.store.broadcasts.recipients(target.key) if r.country == mine.country
    ]
    for r in country:
        if r.relayed_at is not None:
            when = r.relayed_at.astimezone(ctx.env.zone)
            return _(
                "{number}: {shown} confirmed the relay in your country already ({when:%H:%M})."
            ).format(number=number, shown=shown(r.user_id), when=when)
    level = said(ctx, tlp)
    if level == "red":
        raise CommandError(_("a relay note goes to the roll-call: it cannot be TLP:RED"))
    await ctx.store.broadcasts.relayed(mine, note=note.strip() or None, now=ctx.now, tlp=level)
    ctx.wake(LIVE, target.key)
    where = ctx.env.reference.countries.name_of(mine.country)
    answer = f"✅ {number}: onward dissemination in {where} recorded."
    first = all(r.acked_at is None for r in country)
    if first:  # an acknowledgement as well, counted like any other
        acked = await acknowledge(ctx, target, mine, "relayed")
        answer += f" It counts as your acknowledgement too: {acked.removeprefix('✅ ')}"
    ctx.audit_detail = f"{number} relayed in {mine.country}" + (" and acked" if first else "")
    return answer


@router.command(
    "broadcast status",
    summary="the roll-call of a broadcast: countries dark or answered, then each person",
    roles=READERS,
    params=[Pos("id", BROADCAST_ID, "BC-n", optional=True)],
    example="!broadcast status BC-3",
)
async def broadcast_status(ctx: Context, id: int | None) -> View:
    target = await ctx.store.broadcasts.get(id) if id else await ctx.store.broadcasts.latest()
    if target is None:
        raise CommandError(
            _("there is no {id}").format(id=ShortId.BC.of(id))
            if id
            else _("no broadcast has been sent yet")
        )
    recipients = await ctx.store.broadcasts.recipients(target.key)
    data = roll_call(ctx.env.reference, target, recipients, ctx.viewer) | carried(ctx)
    if target.exercise:
        data["drill"] = await drill_report(ctx.store, ctx.env.reference, target, data)
    return View("broadcast/status", data)


class EscalationStepConfig(Section):
    after: Duration = Field(description='a duration after the broadcast, e.g. "30m"')
    notify: list[str] = Field(
        description='tiers to alert, e.g. ["alternate"] or ["cirt", "le-24x7", "chair"]'
    )

    @field_validator("notify")
    @classmethod
    def _targets(cls, v: list[str]) -> list[str]:
        return list(check_targets(v))


class BroadcastConfig(Section):
    renotify_after: Duration = Field(timedelta(minutes=15), description='a duration such as "15m"')
    max_renotify: int = Field(3, ge=0, le=20, description="a number from 0 to 20")
    open_dms_at_start: bool = Field(
        True, description="true or false: open a DM with every NCPOC ahead of any emergency"
    )
    default_tlp: Literal["clear", "green", "amber", "amber+strict", "red"] = Field(
        "amber", description="clear, green, amber, amber+strict or red"
    )
    email_after: Duration = Field(
        timedelta(minutes=30), description='a duration such as "30m" (needs [smtp] host)'
    )
    relay_within: Duration = Field(timedelta(hours=2), description='a duration such as "2h"')
    escalation: list[EscalationStepConfig] = Field(
        [], description="[[broadcast.escalation]] steps, each with after= and notify="
    )

    @field_validator("escalation")
    @classmethod
    def _ordered(cls, v: list[EscalationStepConfig]) -> list[EscalationStepConfig]:
        if any(a.after >= b.after for a, b in pairwise(v)):
            raise ValueError("steps must come in order of after=, each later than the one before")
        return v

    def chain(self) -> tuple[Step, ...]:
        """The escalation chain: the configured steps, or one built from renotify_after."""
        if self.escalation:
            return tuple(Step(s.after, tuple(s.notify)) for s in self.escalation)
        return default_chain(self.renotify_after, self.max_renotify)


def email_after(config: Sections) -> timedelta | None:
    """When dark countries' recipients are emailed; None where no SMTP server is set up."""
    return config[BroadcastConfig].email_after if config.mail else None


router.section("broadcast", BroadcastConfig)


@router.directs_at_start
async def everyone_reachable(store: Stores, config: Sections) -> list[str]:
    """Every roster member with a Matrix account, where broadcasts should not wait for a DM
    to be opened (`[broadcast] open_dms_at_start`)."""
    if not config[BroadcastConfig].open_dms_at_start:
        return []
    entries = await store.roster.entries()
    return sorted({e.user_id for e in entries if e.user_id.startswith("@")})
