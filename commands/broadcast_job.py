"""The broadcast job: a DM to every recipient, then re-notifications to the silent.

Delivery is idempotent: a recipient's DM is written to the outbox in the same unit of work
that records it on the recipient row, so a run that comes again (after a crash, or woken
twice) skips whoever already has one. A re-notification round is logged with its messages,
once per round.
"""

from __future__ import annotations

from datetime import datetime

from commands.broadcast import JOB, announcement, next_round, ref, roll_call, rounds_due
from commands.context import JobContext
from commands.framework import Router, Settings, View
from commands.values import ShortId
from storage.models import Broadcast, BroadcastRecipient
from storage.stores import Stores

router = Router("broadcast delivery")


async def unfinished(store: Stores, settings: Settings, now: datetime) -> list[int]:
    """Broadcasts with a DM still to write, or recent enough for rounds still to come."""
    since = now - settings.renotify_after * settings.max_renotify
    return await store.broadcasts.unfinished(since=since)


@router.job(JOB, pending=unfinished, summary="a DM to every recipient; reminders to the silent")
async def deliver_broadcast(job: JobContext, broadcast_id: int) -> datetime | None:
    """Write what is missing for one broadcast; returns when to look again (None: done)."""
    target = await job.store.broadcasts.by_id(broadcast_id)
    if target is None:
        return None
    recipients = await job.store.broadcasts.recipients(broadcast_id)
    await _deliver(job, target, [r for r in recipients if r.dm_outbox_id is None])
    every, limit = job.settings.renotify_after, job.settings.max_renotify
    due = rounds_due(target.created_at, every, limit, job.now)
    if due and any(r.acked_at is None for r in recipients):
        await _renotify(job, target, due[-1], recipients)
    return next_round(target.created_at, every, limit, job.now)


def breadth_first(recipients: list[BroadcastRecipient]) -> list[BroadcastRecipient]:
    """One recipient of every country before a second of any: under the homeserver's rate
    limit every country is reached as early as the limit allows."""
    by_country: dict[str | None, list[BroadcastRecipient]] = {}
    for r in recipients:
        by_country.setdefault(r.country, []).append(r)
    ordered = []
    for rank in range(max((len(group) for group in by_country.values()), default=0)):
        ordered += [group[rank] for group in by_country.values() if rank < len(group)]
    return ordered


async def _deliver(job: JobContext, target: Broadcast, recipients: list[BroadcastRecipient]):
    """A DM for each recipient without one, all written in one statement, breadth first
    (the outbox sends in the order written)."""
    deliveries = []
    for r in breadth_first(recipients):
        view = announcement(target, [r.user_id], personal=r.user_id)
        row = await job.post(
            view, to_user=r.user_id, mentions=[r.user_id], ref=ref(target), alert=True
        )
        deliveries.append((r, row))
    await job.store.broadcasts.delivered(deliveries)


async def _renotify(
    job: JobContext, target: Broadcast, round_: int, recipients: list[BroadcastRecipient]
) -> None:
    """Remind the silent, and tell the sender who they are, once per round."""
    if (round_, target.sender) in await job.store.broadcasts.noticed(target.key):
        return  # this round is done
    silent = [r.user_id for r in recipients if r.acked_at is None]
    for user in silent:
        view = announcement(target, [user], personal=user, round=round_)
        await job.post(view, to_user=user, mentions=[user], ref=ref(target), alert=True)
    summary = roll_call(job.env.reference, target, recipients)
    summary.update(round=round_, user=target.sender)
    await job.post(
        View("broadcast/summary", summary),
        to_user=target.sender,
        mentions=[target.sender],
        ref=ref(target),
        alert=True,
    )
    await job.store.broadcasts.log_round(
        target.key, round_, silent=silent, sender=target.sender, at=job.now
    )
    await job.store.audit.record(
        actor="rcc-bot",
        action="broadcast renotify",
        outcome="sent",
        now=job.now,
        detail=f"{ShortId.BC.of(target.number)} round {round_} to {len(silent)} silent",
    )
