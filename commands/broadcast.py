"""`!broadcast`, `!ack`, `!broadcast status`: reach every national contact, count who answered.

The command persists the broadcast and every recipient, and puts the RCC-room message in the
outbox, in one transaction. The broadcast job then gives each NCPOC a direct message (opening
an encrypted DM where none exists) and re-notifies the silent; every delivery is an outbox row
with a stable transaction ID, linked to its recipient, so a restart finishes what is missing
and never sends a copy twice.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from commands.context import Context
from commands.framework import (
    CHAIR_ONLY,
    READERS,
    CommandError,
    Input,
    Opt,
    Pos,
    Router,
    Text,
    View,
)
from commands.parsing import strip_reply_fallback
from commands.types import choice, typed_id, yes_no
from commands.values import Ref, RefKind, RoomKind, ShortId
from storage.models import Broadcast, BroadcastRecipient

router = Router("broadcast")

JOB = "broadcast"  # the job that delivers a broadcast's DMs (commands.broadcast_job)

SEVERITIES = ("info", "high", "critical")
BROADCAST_ID = typed_id(ShortId.BC)
MENTIONED = ShortId.BC.pattern()
ACK_WORD = re.compile(r"\back(?:nowledged?|ed)?\b", re.IGNORECASE)
ACK_REACTIONS = ("✅", "👍", "✔", "☑")
MAX_MESSAGE = 4000


def is_ack_reaction(key: str) -> bool:
    """✅ and 👍, with any skin tone or variation selector."""
    return key.strip()[:1] in ACK_REACTIONS


def ref(broadcast: Broadcast) -> Ref:
    return Ref(RefKind.BROADCAST, broadcast.key)


def announcement(broadcast: Broadcast, recipients: list[str], **extra) -> View:
    data = {
        "id": ShortId.BC.of(broadcast.number),
        "severity": broadcast.severity,
        "exercise": broadcast.exercise,
        "message": broadcast.message,
        "sender": broadcast.sender,
        "recipients": recipients,
        "personal": None,
        "round": 0,
    }
    data.update(extra)
    return View("broadcast/message", data)


@router.command(
    "broadcast",
    privileged=True,
    summary="an emergency message to every NCPOC: the RCC room and a DM to each",
    roles=CHAIR_ONLY,
    params=[
        Opt("severity", choice(*SEVERITIES), "<info|high|critical>"),
        Opt("exercise", yes_no, "yes"),
        Text("message", "message"),
    ],
    example="!broadcast severity=critical Ransomware spreading via VPN appliances; patch now",
    details="Acknowledge with !ack BC-n, a reply containing 'ack', or a ✅/👍 reaction. The "
    "silent are reminded at the configured interval and the chair told who is still silent. "
    "exercise=yes marks every message of a drill EXERCISE.",
)
async def broadcast(
    ctx: Context, severity: str | None, exercise: bool | None, message: str
) -> str | None:
    if len(message) > MAX_MESSAGE:
        raise CommandError(f"the message is too long (at most {MAX_MESSAGE} characters)")
    rcc = ctx.rooms.get(RoomKind.RCC) or (ctx.room_id if ctx.room_kind == RoomKind.RCC else None)
    if rcc is None:
        raise CommandError("the RCC room is not known yet; send the broadcast from the RCC room")
    ncpocs = await ctx.store.roster.ncpocs()
    if not ncpocs:
        raise CommandError("there is no NCPOC on the roster to reach")
    sent = await ctx.store.broadcasts.create(
        message=message,
        severity=severity or "high",
        exercise=bool(exercise),
        sender=ctx.sender,
        room_id=rcc,
        recipients=[(e.user_id, e.country) for e in ncpocs],
        now=ctx.now,
    )
    users = [e.user_id for e in ncpocs]
    ctx.audit_detail = f"{ShortId.BC.of(sent.number)} {sent.severity} to {len(users)}" + (
        " exercise" if sent.exercise else ""
    )
    ctx.wake(JOB, sent.key)
    here = rcc == ctx.room_id
    await ctx.reply(
        announcement(sent, users),
        mentions=users,
        room_id=None if here else rcc,
        ref=ref(sent),
        alert=True,
    )
    if not here:
        return (
            f"✅ {ShortId.BC.of(sent.number)} is on its way to the RCC room and to "
            f"{len(users)} NCPOCs by DM; you will be told of any message that cannot be "
            "delivered, and `!broadcast status` shows who acknowledged."
        )
    return None


async def _target(ctx: Context, number: int | None) -> Broadcast:
    if number is not None:
        found = await ctx.store.broadcasts.get(number)
        if found is None:
            raise CommandError(f"there is no {ShortId.BC.of(number)}")
        return found
    found = await ctx.store.broadcasts.pending_for(ctx.sender)
    if found is None:
        raise CommandError("you have no broadcast waiting for an acknowledgement")
    return found


@router.command(
    "ack",
    summary="acknowledge a broadcast (the newest one you have not, by default)",
    roles=READERS,
    params=[Pos("id", BROADCAST_ID, "BC-n", optional=True), Text("rest", "words", False)],
    example="!ack BC-3",
)
async def ack(ctx: Context, id: int | None, rest: str) -> str:
    target = await _target(ctx, id)
    recipient = await ctx.store.broadcasts.recipient(target.key, ctx.sender)
    if recipient is None:
        raise CommandError(
            f"{ShortId.BC.of(target.number)} was not sent to you; there is nothing to ack"
        )
    return await acknowledge(ctx, target, recipient, "command")


async def acknowledge(
    ctx: Context, target: Broadcast, recipient: BroadcastRecipient, via: str
) -> str:
    label = "EXERCISE " if target.exercise else ""
    if recipient.acked_at is not None:
        when = recipient.acked_at.astimezone(ctx.env.zone)
        return (
            f"{label}{ShortId.BC.of(target.number)}: you acknowledged it already ({when:%H:%M})."
        )
    await ctx.store.broadcasts.acknowledge(recipient, via=via, event_id=ctx.event_id, now=ctx.now)
    ctx.audit_detail = f"{ShortId.BC.of(target.number)} ack by {via}"
    ctx.tally("acks", via)
    everyone = await ctx.store.broadcasts.recipients(target.key)
    done = sum(1 for r in everyone if r.acked_at is not None)
    took = _duration(ctx.now - target.created_at)
    return (
        f"✅ {label}{ShortId.BC.of(target.number)} acknowledged ({took} after it was sent); "
        f"{done}/{len(everyone)} so far."
    )


def _is_ack(said: Input) -> bool:
    """A ✅/👍 reaction, a reply containing "ack", or (in a DM) a bare "ack"."""
    if said.reaction is not None:
        return is_ack_reaction(said.reaction)
    text = strip_reply_fallback(said.body)
    if said.reply_to and ACK_WORD.search(text):
        return True
    return said.is_direct and ACK_WORD.fullmatch(text.strip(" .!\n")) is not None


@router.listener("ack", accepts=_is_ack)
async def ack_by_event(ctx: Context, said: Input) -> str | None:
    """An acknowledgement by a reply containing "ack" or by a ✅/👍 reaction.

    The broadcast is found from a BC-n in the text (clients quote the original in a reply),
    else from the event replied or reacted to, else (in a DM) the newest one not acknowledged.
    Anything that is not a recipient's first acknowledgement is ignored quietly.
    """
    found = None
    if said.reaction is None and (match := MENTIONED.search(said.body)):
        found = await ctx.store.broadcasts.get(int(match.group(1)))
    if found is None and said.reply_to:
        tag = Ref.parse(await ctx.store.outbox.ref_of(said.reply_to))
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
    return (
        f"ℹ️ Your reply was not taken as an acknowledgement of {number}: reply with “ack”, "
        f"react ✅, or send {ctx.settings.prefix}ack {number}."
    )


@router.command(
    "broadcast status",
    summary="the roll-call of a broadcast: who acknowledged, how fast, who is silent",
    roles=READERS,
    params=[Pos("id", BROADCAST_ID, "BC-n", optional=True)],
    example="!broadcast status BC-3",
)
async def broadcast_status(ctx: Context, id: int | None) -> View:
    target = await ctx.store.broadcasts.get(id) if id else await ctx.store.broadcasts.latest()
    if target is None:
        raise CommandError(
            f"there is no {ShortId.BC.of(id)}" if id else "no broadcast has been sent yet"
        )
    return View(
        "broadcast/status",
        roll_call(ctx.env.reference, target, await ctx.store.broadcasts.recipients(target.key)),
    )


def roll_call(reference, target: Broadcast, recipients: list[BroadcastRecipient]) -> dict:
    names = reference.countries.by_code
    countries: dict[str, dict] = {}
    for r in recipients:
        entry = countries.setdefault(
            r.country or "",
            {
                "code": r.country,
                "name": names[r.country].name if r.country in names else (r.country or "—"),
                "people": [],
            },
        )
        entry["people"].append(
            {
                "user": r.user_id,
                "acked": r.acked_at is not None,
                "via": r.ack_via,
                "took": _duration(r.acked_at - target.created_at) if r.acked_at else None,
            }
        )
    done = sum(1 for r in recipients if r.acked_at is not None)
    return {
        "id": ShortId.BC.of(target.number),
        "exercise": target.exercise,
        "severity": target.severity,
        "done": done,
        "total": len(recipients),
        "countries": list(countries.values()),
        "silent": [r.user_id for r in recipients if r.acked_at is None],
    }


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def rounds_due(created: datetime, every: timedelta, limit: int, now: datetime) -> list[int]:
    """Re-notification rounds that have fallen due by `now` (1-based)."""
    return [k for k in range(1, limit + 1) if created + every * k <= now]


def next_round(created: datetime, every: timedelta, limit: int, now: datetime):
    future = [created + every * k for k in range(1, limit + 1) if created + every * k > now]
    return min(future, default=None)
