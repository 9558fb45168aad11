"""`!digest` and the scheduled digest: the RCC's periodic report to the Steering Committee.

A digest is a readable message plus two attachments rendered from the same data: a
standalone HTML report and a heatmap of the status matrix. A scheduled digest is made once
per schedule slot, also across restarts (the slot is a unique key, written with the outbox
messages).

With `[digest] approval = "chair"` (the default) nothing reaches the Steering Committee room
without the chair: a Steering digest is first a draft `DG-n`, built for the Steering room's
audience and sent to the chair; `!digest approve` publishes exactly what the chair saw,
`!digest hold` stops it, `!digest omit` rebuilds it without a record or a section. A draft
not approved within `approve_within` is sent to the chair once more, never published.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from commands.audience import Viewer
from commands.context import Context, JobContext
from commands.digest_data import (
    SECTIONS,
    DigestPeriod,
    build,
    digest_period,
    previous_month,
    previous_quarter,
)
from commands.framework import (
    CHAIR_ONLY,
    DIGEST_READERS,
    ArgumentError,
    CommandError,
    FileSpec,
    Opt,
    ParseEnv,
    Pos,
    Role,
    Router,
    Settings,
    Text,
    View,
)
from commands.i18n import _
from commands.types import choice, typed_id
from commands.values import Clearance, Ref, RefKind, RoomKind, ShortId
from storage.lists import unpack
from storage.models import DigestDraft
from storage.stores import Stores

log = logging.getLogger(__name__)

router = Router("digest")

JOB = "digest"
APPROVAL_JOB = "digest approval"
DRAFT_ID = typed_id(ShortId.DG)
OMITTABLE = re.compile(r"^(INC|LL|RS)-?(\d{1,9})$", re.IGNORECASE)

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
            raise CommandError(_("the Steering Committee room is not known yet; invite the bot"))
        target = steering
    elif ctx.room_kind == RoomKind.OTHER:
        raise CommandError(
            _("a digest goes to the RCC room, the Steering Committee room or a DM with the bot")
        )
    here = target == ctx.room_id
    if to == "steering" and ctx.settings.digest_approval == "chair":
        draft = await _draft(ctx, period, target)
        ctx.audit_detail = f"digest {period.key} draft {ShortId.DG.of(draft.number)}"
        name = ShortId.DG.of(draft.number)
        if ctx.has_role(Role.CHAIR):
            return _(
                "📝 {name} is in your direct chat with the bot: approve it to publish it."
            ).format(name=name)
        return _(
            "📝 {name} is with the chair: the Steering Committee room gets it once approved."
        ).format(name=name)
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
        return _(
            "✅ The digest for {label} is on its way to the Steering "
            "Committee room; you will be told if it cannot be delivered."
        ).format(label=period.label)
    return None


# --- drafts for the chair's approval ----------------------------------------------------------


async def _draft(ctx: Context, period: DigestPeriod, room: str) -> DigestDraft:
    """Build the digest for the Steering room's audience and send it to the chair as a draft."""
    viewer = Viewer(await ctx.audience_of(room))
    data = await build(
        ctx.store, period, env=ctx.env, settings=ctx.settings,
        committee=ctx.settings.committee_name, now=ctx.now, viewer=viewer, room_id=room,
    )  # fmt: skip
    draft = await _store_draft(
        ctx.store, period, room, data, viewer, requested_by=ctx.sender, now=ctx.now
    )
    await _to_chairs(ctx.store, draft, data, ctx.reply)
    ctx.wake(APPROVAL_JOB, draft.number)
    return draft


async def _store_draft(
    store: Stores, period: DigestPeriod, room: str, data: dict, viewer: Viewer, *,
    requested_by: str, now: datetime, slot: datetime | None = None,
) -> DigestDraft:  # fmt: skip
    return await store.digests.draft(
        period=period.key, period_start=period.start, period_end=period.end,
        period_label=period.label, room_id=room, requested_by=requested_by,
        data=json.dumps(data), needs=int(viewer.needs), now=now, slot=slot,
    )  # fmt: skip


async def _to_chairs(
    store: Stores, draft: DigestDraft, data: dict, send: Callable[..., Awaitable[Any]],
    *, again: bool = False,
) -> None:  # fmt: skip
    """The draft as each chair receives it in a DM (`send`: a command's reply or a job's
    post): what to do, then the digest as it would be published, with its files."""
    shown = data | {"draft": ShortId.DG.of(draft.number), "again": again}
    for entry in await store.roster.entries():
        if entry.role == Role.CHAIR:
            await send(
                View("digest/draft", shown), to_user=entry.user_id, files=attachments(data),
                ref=Ref(RefKind.DIGEST, draft.number), needs=Clearance(draft.needs),
            )  # fmt: skip


def omittable(text: str, _env: ParseEnv) -> str:
    """`INC-3`, `LL-2`, `RS-4` or a section of the digest."""
    key = text.strip()
    if match := OMITTABLE.match(key):
        return f"{match.group(1).upper()}-{int(match.group(2))}"
    if key.casefold() in SECTIONS:
        return key.casefold()
    raise ArgumentError(
        _("{text!r} is neither a record (INC-n, LL-n, RS-n) nor a section: {choices}").format(
            text=text, choices=", ".join(SECTIONS)
        )
    )


async def _pending(ctx: Context, number: int) -> DigestDraft:
    draft = await ctx.store.digests.get_draft(number)
    if draft is None:
        raise CommandError(_("there is no {id}").format(id=ShortId.DG.of(number)))
    if draft.state != "draft":
        raise CommandError(
            _("{id} is {state} already").format(id=ShortId.DG.of(number), state=draft.state)
        )
    return draft


@router.command(
    "digest approve",
    summary="publish a draft digest in the Steering Committee room, as you saw it",
    roles=CHAIR_ONLY,
    params=[Pos("id", DRAFT_ID, "DG-n")],
    example="!digest approve DG-3",
)
async def digest_approve(ctx: Context, id: int) -> str:
    draft = await _pending(ctx, id)
    data = json.loads(draft.data)
    draft.state, draft.decided_by, draft.decided_at = "published", ctx.sender, ctx.now
    await ctx.store.digests.record(
        period=draft.period, room_id=draft.room_id, requested_by=ctx.sender, now=ctx.now
    )
    await ctx.reply(
        View("digest/message", data),
        room_id=draft.room_id,
        files=attachments(data),
        ref=Ref(RefKind.DIGEST, draft.number),
        needs=Clearance(draft.needs),
    )
    name = ShortId.DG.of(id)
    ctx.audit_detail = f"{name} approved: digest {draft.period} {data['label']}"
    return _(
        "✅ {name} is on its way to the Steering Committee room; you "
        "will be told if it cannot be delivered."
    ).format(name=name)


@router.command(
    "digest hold",
    summary="stop a draft digest: it is not published",
    roles=CHAIR_ONLY,
    params=[Pos("id", DRAFT_ID, "DG-n"), Text("reason", "reason")],
    example="!digest hold DG-3 wait for the TT figures",
)
async def digest_hold(ctx: Context, id: int, reason: str) -> str:
    draft = await _pending(ctx, id)
    draft.state, draft.decided_by, draft.decided_at = "held", ctx.sender, ctx.now
    draft.reason = reason.strip()[:500]
    ctx.audit_detail = f"{ShortId.DG.of(id)} held"
    return _("⏸️ {id} is held and will not be published.").format(id=ShortId.DG.of(id))


@router.command(
    "digest omit",
    summary="rebuild a draft digest without a record (INC-n, LL-n, RS-n) or a section",
    roles=CHAIR_ONLY,
    params=[Pos("id", DRAFT_ID, "DG-n"), Pos("what", omittable, "INC-n|LL-n|RS-n|section")],
    example="!digest omit DG-3 INC-12",
    details="The record is left out of every part of the digest — message, report and "
    "counts — as if it did not exist; the revised draft comes back to you. Sections: "
    + ", ".join(SECTIONS),
)
async def digest_omit(ctx: Context, id: int, what: str) -> None:
    draft = await _pending(ctx, id)
    omit = sorted({*unpack(draft.omit), what})
    period = DigestPeriod(draft.period, draft.period_start, draft.period_end, draft.period_label)
    viewer = Viewer(await ctx.audience_of(draft.room_id))
    data = await build(
        ctx.store, period, env=ctx.env, settings=ctx.settings,
        committee=ctx.settings.committee_name, now=ctx.now, viewer=viewer,
        room_id=draft.room_id, omit=frozenset(omit),
    )  # fmt: skip
    await ctx.store.digests.revise(
        draft, omit=omit, data=json.dumps(data), needs=int(viewer.needs), now=ctx.now
    )
    ctx.audit_detail = f"{ShortId.DG.of(id)} omit {what}"
    await _to_chairs(ctx.store, draft, data, ctx.reply)
    if not ctx.is_direct:
        await ctx.reply(
            _("✅ {id} rebuilt without {what}; the chair has it.").format(
                id=ShortId.DG.of(id), what=what
            )
        )


async def waiting_drafts(store: Stores, settings: Settings, now: datetime) -> list[int]:
    return [d.number for d in await store.digests.drafts() if d.resent_at is None]


@router.job(APPROVAL_JOB, pending=waiting_drafts, summary="a draft digest re-sent to the chair")
async def remind_chair(job: JobContext, draft_key: int) -> datetime | None:
    """Once, after `approve_within`: the draft again, as it stands. Never published."""
    draft = await job.store.digests.get_draft(draft_key)
    if draft is None or draft.state != "draft" or draft.resent_at is not None:
        return None
    due = draft.updated_at + job.settings.approve_within
    if job.now < due:
        return due
    draft.resent_at = job.now
    await _to_chairs(job.store, draft, json.loads(draft.data), job.post, again=True)
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
    if job.settings.digest_approval == "chair":
        draft = await _store_draft(
            job.store, period, room, data, viewer, requested_by="schedule", now=job.now,
            slot=slot,
        )  # fmt: skip
        await _to_chairs(job.store, draft, data, job.post)
        job.wake(APPROVAL_JOB, draft.number)
        await job.store.audit.record(
            actor="rcc-bot", action="digest", outcome="draft", now=job.now, room_id=room,
            detail=f"digest {period.key} slot {slot.isoformat()} {ShortId.DG.of(draft.number)}",
        )  # fmt: skip
        log.info("scheduled digest %s drafted for the chair", period.key)
        return True
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
