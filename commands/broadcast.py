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

from commands.framework import (
    CHAIR_ONLY,
    READERS,
    CommandError,
    Context,
    Opt,
    Pos,
    Router,
    Text,
    View,
)
from commands.types import choice, typed_id, yes_no
from storage.models import Broadcast, BroadcastRecipient

router = Router("broadcast")

SEVERITIES = ("info", "high", "critical")
BROADCAST_ID = typed_id("BC")
MENTIONED = re.compile(r"\bBC-?(\d{1,9})\b", re.IGNORECASE)
ACK_WORD = re.compile(r"\back(?:nowledged?|ed)?\b", re.IGNORECASE)
ACK_REACTIONS = ("✅", "👍", "✔", "☑")
MAX_MESSAGE = 4000


def is_ack_reaction(key: str) -> bool:
    """✅ and 👍, with any skin tone or variation selector."""
    return key.strip()[:1] in ACK_REACTIONS


def ref(broadcast: Broadcast) -> str:
    return f"broadcast:{broadcast.id}"


def announcement(ctx_or_none, broadcast: Broadcast, recipients: list[str], **extra) -> View:
    data = {
        "id": f"BC-{broadcast.number}",
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
    rcc = ctx.rooms.get("rcc") or (ctx.room_id if ctx.room_kind == "rcc" else None)
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
    ctx.audit_detail = f"BC-{sent.number} {sent.severity} to {len(users)}" + (
        " exercise" if sent.exercise else ""
    )
    ctx.wake("broadcast", sent.id)
    here = rcc == ctx.room_id
    await ctx.reply(
        announcement(ctx, sent, users),
        mentions=users,
        room_id=None if here else rcc,
        ref=ref(sent),
    )
    if not here:
        return f"✅ BC-{sent.number} sent to the RCC room and to {len(users)} NCPOCs by DM."
    return None


async def _target(ctx: Context, number: int | None) -> Broadcast:
    if number is not None:
        found = await ctx.store.broadcasts.get(number)
        if found is None:
            raise CommandError(f"there is no BC-{number}")
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
    recipient = await ctx.store.broadcasts.recipient(target.id, ctx.sender)
    if recipient is None:
        raise CommandError(f"BC-{target.number} was not sent to you; there is nothing to ack")
    return await acknowledge(ctx, target, recipient, "command")


async def acknowledge(
    ctx: Context, target: Broadcast, recipient: BroadcastRecipient, via: str
) -> str:
    label = "EXERCISE " if target.exercise else ""
    if recipient.acked_at is not None:
        when = recipient.acked_at.astimezone(ctx.env.zone)
        return f"{label}BC-{target.number}: you acknowledged it already ({when:%H:%M})."
    await ctx.store.broadcasts.acknowledge(recipient, via=via, event_id=ctx.event_id, now=ctx.now)
    ctx.audit_detail = f"BC-{target.number} ack by {via}"
    everyone = await ctx.store.broadcasts.recipients(target.id)
    done = sum(1 for r in everyone if r.acked_at is not None)
    took = _duration(ctx.now - target.created_at)
    return (
        f"✅ {label}BC-{target.number} acknowledged ({took} after it was sent); "
        f"{done}/{len(everyone)} so far."
    )


async def ack_by_event(
    ctx: Context, *, body: str, target_event: str | None, via: str
) -> str | None:
    """An acknowledgement by a reply containing "ack" or by a ✅/👍 reaction.

    The broadcast is found from a BC-n in the text (clients quote the original in a reply),
    else from the event replied or reacted to, else (in a DM) the newest one not acknowledged.
    Anything that is not a recipient's first acknowledgement is ignored quietly.
    """
    found = None
    if match := MENTIONED.search(body):
        found = await ctx.store.broadcasts.get(int(match.group(1)))
    if found is None and target_event:
        tag = await ctx.store.outbox.ref_of(target_event)
        if tag and tag.startswith("broadcast:"):
            found = await ctx.store.broadcasts.by_id(int(tag.split(":", 1)[1]))
    if found is None and ctx.is_direct:
        found = await ctx.store.broadcasts.pending_for(ctx.sender)
    if found is None:
        return None
    recipient = await ctx.store.broadcasts.recipient(found.id, ctx.sender)
    if recipient is None or recipient.acked_at is not None:
        return None
    return await acknowledge(ctx, found, recipient, via)


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
        raise CommandError(f"there is no BC-{id}" if id else "no broadcast has been sent yet")
    return View(
        "broadcast/status",
        roll_call(ctx.env.reference, target, await ctx.store.broadcasts.recipients(target.id)),
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
        "id": f"BC-{target.number}",
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
