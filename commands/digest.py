"""`!digest` and the scheduled digest: the RCC's periodic report to the Steering Committee.

A digest is a readable message plus two attachments rendered from the same data: a
standalone HTML report and a heatmap of the status matrix. A scheduled digest is posted once
per schedule slot, also across restarts (the slot is a unique key in the digest log, written
with the outbox messages).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from commands.audience import Viewer
from commands.context import Context, JobContext
from commands.digest_data import (
    DigestPeriod,
    build,
    digest_period,
    previous_month,
    previous_quarter,
)
from commands.framework import (
    DIGEST_READERS,
    CommandError,
    FileSpec,
    Opt,
    ParseEnv,
    Refused,
    Router,
    Settings,
    View,
)
from commands.tlp import IDENTITY_WAITS
from commands.types import choice
from commands.values import Ref, RefKind, RoomKind
from storage.stores import Stores

log = logging.getLogger(__name__)

router = Router("digest")

JOB = "digest"

LAST_CHECK = "digest_checked_at"
MAX_SLOTS = 10_000
RETRY_ROOM = timedelta(minutes=1)


def attachments(data: dict[str, Any]) -> tuple[FileSpec, ...]:
    key = data["period"]["key"]
    return (
        FileSpec(f"rcc-digest-{key}.html", "digest-html", "text/html", data,
                 f"Digest {key} — full report (HTML, {data['label']})"),
        FileSpec(f"rcc-digest-{key}.png", "digest-png", "image/png", data,
                 f"Digest {key} — status heatmap"),
    )  # fmt: skip


@router.command(
    "digest",
    summary="compile the digest for the Steering Committee (message, HTML report, heatmap)",
    roles=DIGEST_READERS,
    params=[
        Opt("period", digest_period, "<YYYY-MM|YYYY-Qn|last-30d>"),
        Opt("to", choice("steering"), "steering"),
    ],
    example="!digest period=2026-Q4 to=steering",
    details="Without period= the last 30 days. to=steering posts it in the Steering "
    "Committee room instead of here. It shows what the room it goes to may see: in the "
    "Steering Committee room CLEAR and GREEN in full, AMBER as titles, RED as ID and severity, "
    "AMBER+STRICT only in a count.",
)
async def digest(ctx: Context, period: DigestPeriod | None, to: str | None) -> str | None:
    period = period or digest_period("last-30d", ctx.env)
    target = ctx.room_id
    if to == "steering":
        steering = ctx.rooms.get(RoomKind.STEERING)
        if steering is None:
            raise CommandError("the Steering Committee room is not known yet; invite the bot")
        if not ctx.identity_trusted:
            raise Refused(IDENTITY_WAITS.format(prefix=ctx.settings.prefix))
        target = steering
    elif ctx.room_kind == RoomKind.OTHER:
        raise CommandError(
            "a digest goes to the RCC room, the Steering Committee room or a DM with the bot"
        )
    here = target == ctx.room_id
    viewer = ctx.viewer if here else Viewer(await ctx.audience_of(target))
    data = await build(
        ctx.store, period, env=ctx.env, settings=ctx.settings,
        committee=ctx.settings.committee_name, now=ctx.now, viewer=viewer, room_id=target,
    )  # fmt: skip
    await ctx.store.digests.record(
        period=period.key, room_id=target, requested_by=ctx.sender, now=ctx.now
    )
    ctx.audit_detail = f"digest {period.key} {data['label']}"
    await ctx.reply(
        View("digest/message", data),
        room_id=None if here else target,
        files=attachments(data),
        needs=viewer.needs,
    )
    if not here:
        return (
            f"✅ The digest for {period.label} is on its way to the Steering Committee room; "
            "you will be told if it cannot be delivered."
        )
    return None


def slots(expression: str, zone, after: datetime, until: datetime) -> list[datetime]:
    """Schedule slots in (after, until], from a cron expression in the committee's zone."""
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab(expression, timezone=zone)
    found: list[datetime] = []
    previous, moment = None, after + timedelta(microseconds=1)
    while len(found) < MAX_SLOTS:
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None or fire > until:
            break
        found.append(fire)
        previous, moment = fire, fire + timedelta(microseconds=1)
    return found


def next_slot(expression: str, zone, now: datetime) -> datetime | None:
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger.from_crontab(expression, timezone=zone).get_next_fire_time(None, now)


def scheduled_period(kind: str, slot: datetime, env: ParseEnv) -> DigestPeriod:
    if kind == "quarter":
        return previous_quarter(slot, env)
    if kind == "last-30d":
        start = slot - timedelta(days=30)
        return DigestPeriod("last-30d", start, slot, f"the 30 days to {slot:%-d %b %Y}")
    return previous_month(slot, env)


async def scheduled(store: Stores, settings: Settings, now: datetime) -> list[int]:
    """The scheduled digest is one record, key 0, whenever a schedule is configured."""
    return [0] if settings.digest_schedule else []


@router.job(JOB, pending=scheduled, summary="the digest on the configured schedule")
async def post_scheduled_digest(job: JobContext, _key: int = 0) -> datetime | None:
    """Post the digest of the latest slot due and not yet posted; returns the next slot."""
    expression = job.settings.digest_schedule
    if not expression:
        return None
    now, zone = job.now, job.env.zone
    checked = await job.store.state.get(LAST_CHECK)
    due = slots(expression, zone, datetime.fromisoformat(checked), now) if checked else []
    # Slots missed while the bot was down collapse into one digest: the latest.
    if due and not await _post(job, due[-1]):
        return now + RETRY_ROOM
    await job.store.state.set(LAST_CHECK, now.isoformat(), now=now)
    return next_slot(expression, zone, now)


async def _post(job: JobContext, slot: datetime) -> bool:
    room = job.rooms.get(RoomKind.STEERING)
    if room is None:
        log.error("scheduled digest waits: the Steering Committee room is not known yet")
        return False
    if await job.store.digests.slot_posted(slot):
        return True
    period = scheduled_period(job.settings.digest_period, slot, job.env)
    viewer = Viewer(await job.audience_of(room))
    data = await build(
        job.store, period, env=job.env, settings=job.settings,
        committee=job.settings.committee_name, now=job.now, viewer=viewer, room_id=room,
    )  # fmt: skip
    data["late"] = job.now - slot > timedelta(minutes=2)
    await job.store.digests.record(
        period=period.key, room_id=room, requested_by="schedule", now=job.now, slot=slot
    )
    await job.post(
        View("digest/message", data),
        room_id=room,
        files=attachments(data),
        ref=Ref(RefKind.DIGEST, 0),
        needs=viewer.needs,
    )
    await job.store.audit.record(
        actor="rcc-bot", action="digest", outcome="late" if data["late"] else "sent",
        now=job.now, room_id=room, detail=f"digest {period.key} slot {slot.isoformat()}",
    )  # fmt: skip
    log.info("scheduled digest %s posted for slot %s", period.key, slot.isoformat())
    return True
