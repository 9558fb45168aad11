"""Notices about the committee's rooms and members: for the chair, an alias that now names
another room (never followed), a room upgraded (followed only once the bot is invited there);
for the whole RCC room, a member whose cross-signing identity changed."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from commands.context import JobContext
from commands.framework import Router, Signal, View
from commands.i18n import N_, later
from commands.sections import Sections
from commands.values import CHROME, RoomKind, fingerprint
from storage.stores import Stores

router = Router("notices", templates=Path(__file__).parent / "templates")

JOB = "room notices"
ROOMS = {
    "rcc": N_("the RCC room"),
    "steering": N_("the Steering Committee room"),
    "direct": N_("your direct chat with the bot"),
}


async def unsent(store: Stores, config: Sections, now: datetime) -> list[int]:
    return [0] if await store.notices.unsent() else []


@router.job(
    JOB,
    pending=unsent,
    on=[Signal.NOTICE],
    summary="tell the chair (or the RCC room) about changes to rooms and identities",
)
async def tell_the_chair(job: JobContext, _key: int = 0) -> None:
    notices = await job.store.notices.unsent()
    for notice in notices:
        data = json.loads(notice.data)
        data.update(room=later(ROOMS.get(data["kind"], data["kind"])), at=notice.created_at)
        if data.get("to") == "rcc":  # the whole committee is told
            rcc = job.rooms.get(RoomKind.RCC)
            if rcc is not None:
                data.update(
                    fingerprint=fingerprint(data["key"]),
                    prefix=job.config.committee.command_prefix,
                )
                # The member is mentioned, and it rings: if the new key is not theirs, they
                # must learn now that someone else holds their password.
                who = [data["user"]] if data.get("user") else []
                view = View(f"rooms/{notice.kind}", data)
                await job.post(view, room_id=rcc, mentions=who, alert=bool(who), seal=CHROME)
            continue
        if data.get("to") == "person":  # about their own DM: to them, in the fresh one
            user = data["user"]
            view = View(f"rooms/{notice.kind}", data)
            await job.post(view, to_user=user, mentions=[user], alert=True, seal=CHROME)
            continue
        for chair in await job.chairs():
            view = View(f"rooms/{notice.kind}", data | {"user": chair})
            await job.post(view, to_user=chair, mentions=[chair], alert=True, seal=CHROME)
    await job.store.notices.mark_sent([n.id for n in notices if n.id], now=job.now)
    return None
