"""The broadcast job: a DM to every recipient, then re-notifications to the silent.

Delivery is idempotent: a recipient's DM is written to the outbox in the same transaction
that records it on the recipient row, so a job that runs again (after a crash, or woken
twice) skips whoever already has one. Re-notification rounds are logged under a unique key.
"""

from __future__ import annotations

from datetime import datetime

from commands.broadcast import announcement, next_round, ref, roll_call, rounds_due
from commands.framework import Jobs, Reply, View
from storage.models import BroadcastNotice

RETRY = 60  # seconds before trying again to reach someone whose DM could not be opened


async def deliver_broadcast(jobs: Jobs, broadcast_id: int) -> datetime | None:
    """Send what is missing for one broadcast; returns when to look again (None: done)."""
    now = jobs.env.now()
    async with jobs.db.unit(write=False) as store:
        target = await store.broadcasts.by_id(broadcast_id)
        if target is None:
            return None
        recipients = await store.broadcasts.recipients(broadcast_id)
    undelivered = [r for r in recipients if r.dm_outbox_id is None]
    unreachable = False
    if undelivered:
        unreachable = not await _deliver(jobs, target, undelivered, now)
    settings = jobs.settings
    every, limit = settings.renotify_after, settings.max_renotify
    due = rounds_due(target.created_at, every, limit, now)
    silent = [r for r in recipients if r.acked_at is None]
    if due and silent:
        await _renotify(jobs, target, due[-1], now)
    following = next_round(target.created_at, every, limit, now)
    if unreachable:
        retry = datetime.fromtimestamp(now.timestamp() + RETRY, now.tzinfo)
        following = min(filter(None, (following, retry)))
    return following


async def _deliver(jobs: Jobs, target, recipients, now: datetime) -> bool:
    """A DM for each recipient without one; False when someone's DM could not be opened.

    All DMs are written in one transaction with a constant number of statements, so the
    first of them leaves as soon as possible however many recipients there are.
    """
    rooms = {r.user_id: await jobs.direct_room(r.user_id) for r in recipients}
    async with jobs.db.unit() as store:
        deliveries = []
        for recipient in await store.broadcasts.recipients(target.id):
            room = rooms.get(recipient.user_id)
            if recipient.dm_outbox_id is not None or room is None:
                continue  # delivered by another run of this job, or unreachable for now
            view = announcement(None, target, [recipient.user_id], personal=recipient.user_id)
            row = await jobs.post(store, Reply(view, (recipient.user_id,), room, ref=ref(target)))
            deliveries.append((recipient, room, row))
        await store.broadcasts.delivered(deliveries)
    return all(rooms.values())


async def _renotify(jobs: Jobs, target, round_: int, now: datetime) -> None:
    """Remind the silent, and tell the sender who they are, once per round."""
    silent_rooms = {}
    async with jobs.db.unit(write=False) as store:
        noticed = await store.broadcasts.noticed(target.id)
        recipients = await store.broadcasts.recipients(target.id)
    silent = [r for r in recipients if r.acked_at is None and (round_, r.user_id) not in noticed]
    for r in silent:
        silent_rooms[r.user_id] = r.dm_room or await jobs.direct_room(r.user_id)
    chair_room = None
    if (round_, target.sender) not in noticed:
        chair_room = await jobs.direct_room(target.sender)
    async with jobs.db.unit() as store:
        if (round_, target.sender) in await store.broadcasts.noticed(target.id):
            return  # another run of this job got here first
        log = []
        for r in silent:
            room = silent_rooms.get(r.user_id)
            if room is None:
                continue
            view = announcement(None, target, [r.user_id], personal=r.user_id, round=round_)
            await jobs.post(store, Reply(view, (r.user_id,), room, ref=ref(target)))
            log.append(
                BroadcastNotice(
                    broadcast_id=target.id,
                    round=round_,
                    recipient=r.user_id,
                    kind="renotify",
                    at=now,
                )
            )
        if chair_room is not None:
            summary = roll_call(jobs.env.reference, target, recipients)
            summary.update(round=round_, user=target.sender)
            await jobs.post(
                store,
                Reply(
                    View("broadcast/summary", summary),
                    (target.sender,),
                    chair_room,
                    ref=ref(target),
                ),
            )
            log.append(
                BroadcastNotice(
                    broadcast_id=target.id,
                    round=round_,
                    recipient=target.sender,
                    kind="summary",
                    at=now,
                )
            )
        await store.broadcasts.log_notices(log)
        await store.audit.record(
            actor="rcc-bot",
            action="broadcast renotify",
            outcome="sent",
            now=now,
            detail=f"BC-{target.number} round {round_} to {len(silent)} silent",
        )
