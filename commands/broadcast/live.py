"""The roll-call that stays current: while a broadcast is open, one message in the RCC room
shows who has acknowledged and relayed it, edited in place (m.replace) as answers come, and
pinned so the picture is always at the top; unpinned once every country has answered or the
broadcast's time is over.

Edits are coalesced: at most one every `live_every` (the answers in between show together),
and never more than the homeserver's rate limit lets through (they queue like any message).
The acknowledgements themselves stay in the roll-call's records and the audit log; the
message is only their picture.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from commands.audience import Viewer
from commands.broadcast.deliver import horizon, unfinished
from commands.broadcast.rollcall import roll_call
from commands.broadcast.send import LIVE as JOB
from commands.context import JobContext
from commands.framework import Router, View, pin
from commands.tlp import carried_by
from commands.values import CHROME, Ref, RefKind

router = Router("broadcast roll-call")

EVERY = timedelta(seconds=20)  # at most one edit this often
WAIT_SENT = timedelta(seconds=5)  # the first message is on its way: look again soon


@router.job(JOB, pending=unfinished, summary="a broadcast's live roll-call, pinned")
async def keep_current(job: JobContext, key: int) -> datetime | None:
    """Post the roll-call once, pin it, edit it as it changes; unpin it when it is over."""
    target = await job.store.broadcasts.by_id(key)
    if target is None:
        return None
    ref = Ref(RefKind.ROLLCALL, key)
    state = job.store.state
    prefix = f"rollcall_{key}"
    recipients = await job.store.broadcasts.recipients(key)
    viewer = Viewer(await job.audience_of(target.room_id))
    data = roll_call(job.env.reference, target, recipients, viewer) | carried_by(viewer)
    view = View("broadcast/status", data | {"live": True})
    over = data["answered"] == data["country_total"] or (
        job.now >= target.created_at + horizon(job.config)
    )
    sent = await job.store.outbox.first_sent(str(ref), target.room_id)
    if await state.get(f"{prefix}_posted") is None:
        await job.post(view, room_id=target.room_id, ref=ref, seal=viewer.seal())
        await state.set(f"{prefix}_posted", job.now.isoformat(), now=job.now)
        await state.set(f"{prefix}_shown", _digest(data), now=job.now)
        return job.now + WAIT_SENT
    if sent is None or not sent.event_id:
        return job.now + WAIT_SENT  # not sent yet: nothing to pin or edit
    pinned = await state.get(f"{prefix}_pinned")
    if pinned is None and not over:
        await job.post(pin(sent.event_id), room_id=target.room_id, seal=CHROME, report=False)
        await state.set(f"{prefix}_pinned", "yes", now=job.now)
    edited = await state.get(f"{prefix}_edited")
    if await state.get(f"{prefix}_shown") != _digest(data):
        last = datetime.fromisoformat(edited) if edited else None
        if last is not None and job.now < last + EVERY:
            return last + EVERY  # coalesced: the next edit shows what came meanwhile
        await job.post(
            view, room_id=target.room_id, ref=ref, seal=viewer.seal(), edits=sent.event_id
        )
        await state.set(f"{prefix}_edited", job.now.isoformat(), now=job.now)
        await state.set(f"{prefix}_shown", _digest(data), now=job.now)
    if over:
        if pinned == "yes":
            await job.post(
                pin(sent.event_id, on=False), room_id=target.room_id, seal=CHROME, report=False
            )
            await state.set(f"{prefix}_pinned", "no", now=job.now)
        return None
    return target.created_at + horizon(job.config)  # or sooner, woken by an answer


def _digest(data: dict) -> str:
    """What the message shows, to know whether it changed (times aside)."""
    return json.dumps(
        [(c["name"], c["acked"], c.get("relayed")) for c in data["countries"]], default=str
    )
