"""Messages the homeserver refused for good are reported, in words, to whoever should know
(for jobs: the chair), once each. The bot never lets a refused message pass as sent."""

from __future__ import annotations

from datetime import datetime

from commands.audience import PRIVATE
from commands.context import JobContext
from commands.framework import Router, Signal, View
from commands.sections import Sections
from commands.values import CHROME, Ref, RefKind, ShortId
from storage.lists import unpack
from storage.stores import Stores

router = Router("failures")

JOB = "delivery failures"


async def unreported(store: Stores, config: Sections, now: datetime) -> list[int]:
    """One record, key 0, while some refused message has not been reported yet."""
    return [0] if await store.outbox.failed_unreported() else []


@router.job(
    JOB,
    pending=unreported,
    summary="tell the chair about messages that were refused",
    on=[Signal.REFUSED],
)
async def report_failures(job: JobContext, _key: int = 0) -> None:
    failed = await job.store.outbox.failed_unreported()
    for row in failed:
        data = {
            "what": await describe(job.store, Ref.parse(row.ref)),
            "to": row.to_user or row.room_id,
            "person": row.to_user is not None,
            "reason": row.error or "no reason given",
            "at": row.created_at,
        }
        # An email's refusal names the address: for the chair's eyes only.
        seal = PRIVATE if row.kind == "email" else CHROME
        for person in unpack(row.report_to):
            view = View("errors/undelivered", data | {"user": person})
            await job.post(
                view, to_user=person, mentions=[person], report=False, alert=True, seal=seal
            )
    await job.store.outbox.mark_reported([row.id for row in failed if row.id], now=job.now)
    return None  # woken again by the next refusal


async def describe(store: Stores, ref: Ref | None) -> str:
    """What a message was, in the committee's words."""
    if ref is None:
        return "a message"
    if ref.kind == RefKind.BROADCAST:
        found = await store.broadcasts.by_id(ref.key)
        return f"the broadcast {ShortId.BC.of(found.number)}" if found else "a broadcast"
    if ref.kind == RefKind.DEADLINE:
        deadline = await store.deadlines.by_id(ref.key)
        return f"a notice about {ShortId.DL.of(deadline.number)}" if deadline else "a notice"
    if ref.kind == RefKind.DIGEST:
        return f"the digest {ShortId.DG.of(ref.key)}" if ref.key else "the scheduled digest"
    return "a message"
