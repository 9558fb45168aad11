"""Notices for the chair about the committee's rooms: an alias that now names another room
(never followed), a room upgraded (followed only once the bot is invited there)."""

from __future__ import annotations

import json
from datetime import datetime

from commands.context import JobContext
from commands.framework import Router, Settings, View
from storage.stores import Stores

router = Router("notices")

JOB = "room notices"
ROOMS = {"rcc": "the RCC room", "steering": "the Steering Committee room"}


async def unsent(store: Stores, settings: Settings, now: datetime) -> list[int]:
    return [0] if await store.notices.unsent() else []


@router.job(JOB, pending=unsent, summary="tell the chair about changes to the committee's rooms")
async def tell_the_chair(job: JobContext, _key: int = 0) -> None:
    notices = await job.store.notices.unsent()
    for notice in notices:
        data = json.loads(notice.data)
        data.update(room=ROOMS.get(data["kind"], data["kind"]), at=notice.created_at)
        for chair in await job.chairs():
            view = View(f"rooms/{notice.kind}", data | {"user": chair})
            await job.post(view, to_user=chair, mentions=[chair])
    await job.store.notices.mark_sent([n.id for n in notices if n.id], now=job.now)
    return None
