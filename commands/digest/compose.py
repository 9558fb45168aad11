"""`!digest` and the scheduled digest: the RCC's periodic report to the Steering Committee.

A digest is a readable message plus two attachments rendered from the same data: a
standalone HTML report and a heatmap of the status matrix. A scheduled digest is made once
per schedule slot, also across restarts (the slot is a unique key, written with the outbox
messages).

With `[digest] approval = "chair"` (the default) nothing reaches the Steering Committee room
without the chair: a Steering digest is first a draft `DG-n`, built for the Steering room's
audience and sent to the chair; `!digest approve` publishes exactly what the chair saw, and
only while it is still true (anything changed since: a new version goes to the chair
instead), `!digest hold` stops it, `!digest omit` rebuilds it without a record or a section.
A draft not approved within `approve_within` is sent to the chair once more; after
`draft_expires` it can no longer be approved. Anyone else asking for the Steering
Committee's digest (in its room, or wherever the readers are its readers) is pointed to the
latest approved one, and `!report steering` likewise: the approval cannot be gone around.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from commands import i18n
from commands.audience import FILE_AUDIENCES, Viewer
from commands.context import Context, JobContext
from commands.digest.data import (
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
    Offline,
    Opt,
    ParseEnv,
    Pos,
    Role,
    Router,
    Text,
    View,
)
from commands.i18n import N_, Deferred, Moment, _
from commands.sections import Duration, Section, Sections
from commands.types import choice, typed_id
from commands.values import Clearance, Ref, RefKind, RoomKind, Seal, ShortId
from storage.digests import DigestDraft
from storage.lists import pack, unpack
from storage.stores import Stores

log = logging.getLogger(__name__)

router = Router(
    "digest",
    templates=Path(__file__).parent / "templates",
    topic=N_("the digest for the Steering Committee"),
)

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
    viewer = ctx.viewer if here else Viewer(await ctx.audience_of(target))
    if ctx.config[DigestConfig].approval == "chair" and _for_steering(ctx, target, viewer):
        if not ctx.has_role(Role.CHAIR):
            return await approved_only(ctx, period)
        draft = await _draft(ctx, period, ctx.rooms.get(RoomKind.STEERING) or target)
        ctx.audit_detail = f"digest {period.key} draft {ShortId.DG.of(draft.number)}"
        name = ShortId.DG.of(draft.number)
        if ctx.has_role(Role.CHAIR):
            return _(
                "📝 {name} is in your direct chat with the bot: approve it to publish it."
            ).format(name=name)
        return _(
            "📝 {name} is with the chair: the Steering Committee room gets it once approved."
        ).format(name=name)
    data = await build(
        ctx.store, period, env=ctx.env, config=ctx.config,
        committee=ctx.config.committee.name, now=ctx.now, viewer=viewer, room_id=target,
    )  # fmt: skip
    await ctx.store.digests.record(
        period=period.key, room_id=target, requested_by=ctx.sender, now=ctx.now
    )
    ctx.audit_detail = f"digest {period.key} {data['label']}"
    await ctx.reply(
        View("digest/message", data),
        room_id=None if here else target,
        files=attachments(data),
        seal=viewer.seal(),
    )
    if not here:
        return _(
            "✅ The digest for {label} is on its way to the Steering "
            "Committee room; you will be told if it cannot be delivered."
        ).format(label=period.label)
    return None


def _for_steering(ctx: Context, target: str, viewer: Viewer) -> bool:
    """Whether a digest going to `target` is the Steering Committee's: in its room, or
    anywhere its readers are no closer to the RCC than the Steering Committee is."""
    return target == ctx.rooms.get(RoomKind.STEERING) or (
        viewer.audience.clearance <= Clearance.STEERING
    )


async def approved_only(ctx: Context, period: DigestPeriod | None) -> str:
    """What anyone but the chair gets of the Steering Committee's digest (and of
    `!report steering`): the latest one the chair approved, where it was posted; or, when
    none was yet, word that the chair has been asked (a draft goes to the chair)."""
    store = ctx.store
    found = None
    if period is not None:
        found = await store.digests.latest_published(period.key)
    found = found or await store.digests.latest_published()
    if found is not None:
        return await _pointer(ctx, found)
    waiting = [d for d in await store.digests.drafts()]
    if waiting:
        name = ShortId.DG.of(waiting[-1].number)
        ctx.audit_detail = f"digest: {name} waits for the chair"
        return _(
            "📝 No digest has been approved yet: {name} is with the chair, and the Steering "
            "Committee room gets it once approved."
        ).format(name=name)
    steering = ctx.rooms.get(RoomKind.STEERING)
    if steering is None:
        raise CommandError(_("the Steering Committee room is not known yet; invite the bot"))
    draft = await _draft(ctx, period or digest_period("last-30d", ctx.env), steering)
    name = ShortId.DG.of(draft.number)
    ctx.audit_detail = f"digest: none approved, {name} drafted for the chair"
    return _(
        "📝 No digest has been approved yet; the chair has been asked ({name}), and the "
        "Steering Committee room gets it once approved."
    ).format(name=name)


async def _pointer(ctx: Context, found: DigestDraft) -> str:
    """Where the latest approved digest was posted, with a link to it."""
    name = ShortId.DG.of(found.number)
    sent = await ctx.store.outbox.first_sent(str(Ref(RefKind.DIGEST, found.number)), found.room_id)
    when_ = found.decided_at or found.updated_at
    link = f"https://matrix.to/#/{found.room_id}/{sent.event_id}" if sent and sent.event_id else ""
    ctx.audit_detail = f"digest: pointed to {name}"
    return (
        _(
            "📰 The digest for the Steering Committee is the one the chair approves: the "
            "latest is {name} for {label}, posted in the Steering Committee room on {when}. "
            "{link}"
        )
        .format(
            name=name,
            label=found.period_label,
            when=i18n.when(when_, ctx.env.zone, "%-d %b %Y %H:%M"),
            link=link,
        )
        .strip()
    )


# --- drafts for the chair's approval ----------------------------------------------------------


async def _draft(ctx: Context, period: DigestPeriod, room: str) -> DigestDraft:
    """Build the digest for the Steering room's audience and send it to the chair as a draft."""
    viewer = Viewer(await ctx.audience_of(room))
    data = await build(
        ctx.store, period, env=ctx.env, config=ctx.config,
        committee=ctx.config.committee.name, now=ctx.now, viewer=viewer, room_id=room,
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
        data=as_json(data), needs=int(viewer.needs), now=now, slot=slot,
        bound_to=packed(viewer.bound_to),
    )  # fmt: skip


async def _to_chairs(
    store: Stores, draft: DigestDraft, data: dict, send: Callable[..., Awaitable[Any]],
    *, again: bool = False,
) -> None:  # fmt: skip
    """The draft as each chair receives it in a DM (`send`: a command's reply or a job's
    post): what to do, then the digest as it would be published, with its files."""
    shown = data | {"draft": ShortId.DG.of(draft.number), "again": again, "version": draft.version}
    for entry in await store.roster.entries():
        if entry.role == Role.CHAIR:
            await send(
                View("digest/draft", shown), to_user=entry.user_id, files=attachments(data),
                ref=Ref(RefKind.DIGEST, draft.number), seal=draft_seal(draft),
            )  # fmt: skip


def draft_seal(draft: DigestDraft) -> Seal:
    """What a draft shows, as it was built for its room."""
    bound = frozenset(unpack(draft.bound_to)) if draft.bound_to is not None else None
    return Seal(json.loads(draft.data).get("tlp", "clear"), Clearance(draft.needs), bound)


def packed(people: frozenset[str] | None) -> str | None:
    """The people an output is bound to, as a draft keeps them (None: bound to nobody)."""
    return pack(sorted(people)) if people is not None else None


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


def draft_version(text: str, _env: ParseEnv) -> int:
    """`v2` or `2`: the version of a draft its reader saw."""
    key = text.strip().casefold().removeprefix("v")
    if not key.isdigit() or not 0 < int(key) < 10_000:
        raise ArgumentError(_("{text!r} is not a version like v2").format(text=text))
    return int(key)


@router.command(
    "digest approve",
    summary="publish a draft digest in the Steering Committee room, as you saw it",
    roles=CHAIR_ONLY,
    params=[Pos("id", DRAFT_ID, "DG-n"), Pos("version", draft_version, "vN", optional=True)],
    example="!digest approve DG-3 v2",
    details="It publishes only what you read: if anything in it changed since (a label "
    "raised, a title or text edited, a record withdrawn, a record left out by another chair), "
    "the draft is rebuilt and sent to you again, and this approval is refused with the "
    "reason. With more than one chair, name the version you read (the draft shows it). A "
    "draft expires (`draft_expires`) and can then no longer be approved.",
)
async def digest_approve(ctx: Context, id: int, version: int | None) -> str:
    draft = await _pending(ctx, id)
    name = ShortId.DG.of(id)
    if ctx.now - draft.updated_at > ctx.config[DigestConfig].expires:  # (its job marks it)
        raise CommandError(
            _(
                "{name} was built too long ago to be approved: it has expired. Ask for a new "
                "one: !digest to=steering"
            ).format(name=name)
        )
    await _check_version(ctx, draft, version)
    data = json.loads(draft.data)
    current = await _rebuilt(ctx, draft)
    seal = current.pop("_seal")
    moved = stale(data, current)
    if moved:
        await ctx.store.digests.revise(
            draft, omit=unpack(draft.omit), data=as_json(current), needs=int(seal.needs),
            now=ctx.now, bound_to=packed(seal.bound_to),
        )  # fmt: skip
        await _to_chairs(ctx.store, draft, current, ctx.reply)
        # Not an error: the new version is written and sent, and only that is committed.
        ctx.audit_detail = f"{name} approval refused: changed ({', '.join(moved)})"
        return _(
            "⛔ {name} changed since your copy was built ({sections}): nothing was "
            "published. Version {version} is in your direct chat with the bot: read it, "
            "then approve that one."
        ).format(name=name, sections=", ".join(moved), version=draft.version)
    draft.state, draft.decided_by, draft.decided_at = "published", ctx.sender, ctx.now
    await ctx.store.digests.record(
        period=draft.period, room_id=draft.room_id, requested_by=ctx.sender, now=ctx.now
    )
    await ctx.reply(
        View("digest/message", data),
        room_id=draft.room_id,
        files=attachments(data),
        ref=Ref(RefKind.DIGEST, draft.number),
        seal=draft_seal(draft),
    )
    ctx.audit_detail = f"{name} v{draft.version} approved: digest {draft.period} {data['label']}"
    return _(
        "✅ {name} is on its way to the Steering Committee room; you "
        "will be told if it cannot be delivered."
    ).format(name=name)


async def _check_version(ctx: Context, draft: DigestDraft, version: int | None) -> None:
    await check_version(
        ctx, ShortId.DG.of(draft.number), draft.version, version, command="!digest approve"
    )


async def check_version(
    ctx: Context, name: str, current: int, version: int | None, *, command: str
) -> None:
    """With two chairs, each approves the version they read: one may have changed it since
    (a draft digest's, a report's on its cycle)."""
    if version is None:
        chairs = [e for e in await ctx.store.roster.entries() if e.role == Role.CHAIR]
        if len(chairs) > 1:
            raise CommandError(
                _(
                    "there is more than one chair: name the version you read, "
                    "{command} {name} v{version}"
                ).format(command=command, name=name, version=current)
            )
        return
    if version != current:
        raise CommandError(
            _(
                "{name} is at version {current} now, not {version}: it changed since you read "
                "it. Read version {current} in your direct chat with the bot, then approve it."
            ).format(name=name, current=current, version=version)
        )


async def _rebuilt(ctx: Context, draft: DigestDraft) -> dict[str, Any]:
    """The draft built again now, for its room's audience, leaving out what it left out."""
    period = DigestPeriod(draft.period, draft.period_start, draft.period_end, draft.period_label)
    viewer = Viewer(await ctx.audience_of(draft.room_id))
    data = await build(
        ctx.store, period, env=ctx.env, config=ctx.config,
        committee=ctx.config.committee.name, now=ctx.now, viewer=viewer,
        room_id=draft.room_id, omit=frozenset(unpack(draft.omit)),
    )  # fmt: skip
    if draft.slot is not None:
        data["late"] = json.loads(draft.data).get("late", False)
    return json.loads(as_json(data)) | {"_seal": viewer.seal()}  # as it would be stored


def as_json(data: dict[str, Any]) -> str:
    """A digest's data as stored with its draft: dates and words written out in the language
    of the room it is for (`lang`, set by `build`)."""

    def written(value: object) -> str:
        if isinstance(value, Moment | Deferred):
            return str(value)
        raise TypeError(f"{type(value).__name__} in a digest's data")

    with i18n.speaking(data.get("lang") or i18n.current()):
        return json.dumps(data, default=written)


# What a digest says of the moment it was made, not of the records: never a reason to rebuild.
VOLATILE = frozenset({"generated", "audit_head", "late", "_seal"})


def stale(before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """The parts of a digest that differ between the chair's copy and one built now."""
    keys = (before.keys() | now.keys()) - VOLATILE
    return sorted(
        k
        for k in keys
        if json.dumps(before.get(k), default=str) != json.dumps(now.get(k), default=str)
    )


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
        ctx.store, period, env=ctx.env, config=ctx.config,
        committee=ctx.config.committee.name, now=ctx.now, viewer=viewer,
        room_id=draft.room_id, omit=frozenset(omit),
    )  # fmt: skip
    await ctx.store.digests.revise(
        draft, omit=omit, data=as_json(data), needs=int(viewer.needs), now=ctx.now,
        bound_to=packed(viewer.bound_to),
    )  # fmt: skip
    ctx.audit_detail = f"{ShortId.DG.of(id)} omit {what}"
    await _to_chairs(ctx.store, draft, data, ctx.reply)
    if not ctx.is_direct:
        await ctx.reply(
            _("✅ {id} rebuilt without {what}; the chair has it.").format(
                id=ShortId.DG.of(id), what=what
            )
        )


async def waiting_drafts(store: Stores, config: Sections, now: datetime) -> list[int]:
    return [d.number for d in await store.digests.drafts()]


@router.job(
    APPROVAL_JOB, pending=waiting_drafts, summary="a draft digest re-sent to the chair; expiry"
)
async def remind_chair(job: JobContext, draft_key: int) -> datetime | None:
    """Once, after `approve_within`: the draft again, as it stands. After `draft_expires` it
    expires unpublished. Never published here."""
    draft = await job.store.digests.get_draft(draft_key)
    if draft is None or draft.state != "draft":
        return None
    expires = draft.updated_at + job.config[DigestConfig].expires
    if job.now >= expires:
        draft.state, draft.decided_at, draft.reason = "expired", job.now, "not approved in time"
        return None
    due = draft.updated_at + job.config[DigestConfig].approve_within
    if draft.resent_at is None and job.now >= due:
        draft.resent_at = job.now
        await _to_chairs(job.store, draft, json.loads(draft.data), job.post, again=True)
    return due if draft.resent_at is None and due > job.now else expires


def slots(expression: str, zone: ZoneInfo, after: datetime, until: datetime) -> list[datetime]:
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


def next_slot(expression: str, zone: ZoneInfo, now: datetime) -> datetime | None:
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger.from_crontab(expression, timezone=zone).get_next_fire_time(None, now)


def scheduled_period(kind: str, slot: datetime, env: ParseEnv) -> DigestPeriod:
    if kind == "quarter":
        return previous_quarter(slot, env)
    if kind == "year":
        return digest_period(f"{slot.astimezone(env.zone).year - 1}", env)
    if kind == "last-30d":
        start = slot - timedelta(days=30)
        day = i18n.when(slot, env.zone, "%-d %b %Y")
        return DigestPeriod("last-30d", start, slot, _("the 30 days to {day}").format(day=day))
    return previous_month(slot, env)


async def scheduled(store: Stores, config: Sections, now: datetime) -> list[int]:
    """The scheduled digest is one record, key 0, whenever a schedule is configured."""
    return [0] if config[DigestConfig].schedule else []


@router.job(JOB, pending=scheduled, summary="the digest on the configured schedule")
async def post_scheduled_digest(job: JobContext, _key: int = 0) -> datetime | None:
    """Post the digest of the latest slot due and not yet posted; returns the next slot."""
    expression = job.config[DigestConfig].schedule
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
    period = scheduled_period(job.config[DigestConfig].period, slot, job.env)
    viewer = Viewer(await job.audience_of(room))
    data = await build(
        job.store, period, env=job.env, config=job.config,
        committee=job.config.committee.name, now=job.now, viewer=viewer, room_id=room,
    )  # fmt: skip
    data["late"] = job.now - slot > timedelta(minutes=2)
    if job.config[DigestConfig].approval == "chair":
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
        seal=viewer.seal(),
    )
    await job.store.audit.record(
        actor="rcc-bot", action="digest", outcome="late" if data["late"] else "sent",
        now=job.now, room_id=room, detail=f"digest {period.key} slot {slot.isoformat()}",
    )  # fmt: skip
    log.info("scheduled digest %s posted for slot %s", period.key, slot.isoformat())
    return True


def cron(value: str) -> str:
    """A cron expression (or "" for none), checked as APScheduler reads it."""
    if value.strip():
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value.strip())
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a cron expression ({exc})") from None
    return value.strip()


class ApprovalConfig(Section):
    """The chair's approval of what the bot drafts for readers outside the RCC: the
    digest's (`[digest]`) and the reports' on their cycles (`[reports]`)."""

    approval: Literal["chair", "none"] = Field(
        "chair", description='"chair" (a draft the chair approves) or "none" (posted at once)'
    )
    approve_within: Duration = Field(
        timedelta(days=2), description='a duration such as "2d": then the draft is re-sent once'
    )
    draft_expires: Duration | None = Field(
        None, description='a duration such as "4d" (unset: twice approve_within)'
    )

    @property
    def expires(self) -> timedelta:
        """After this long a draft can no longer be approved (twice approve_within unset)."""
        return self.draft_expires or 2 * self.approve_within


class DigestConfig(ApprovalConfig):
    schedule: str = Field(
        "", description='a cron expression in the committee\'s zone, e.g. "0 9 1 * *" (or "")'
    )
    period: Literal["month", "quarter", "last-30d"] = Field(
        "month", description="month, quarter or last-30d (the period before each slot)"
    )

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str) -> str:
        return cron(v)


router.section("digest", DigestConfig)


def _digest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", default="last-30d", help="YYYY-MM, YYYY-Qn or last-30d")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="HTML file")
    parser.add_argument(
        "--audience",
        choices=("steering", "rcc"),
        default="steering",
        help="who the file is for: the Steering Committee (the default) or the RCC",
    )


@router.verb(
    "digest",
    help="write the digest of a period as HTML (and a PNG beside it)",
    arguments=_digest_arguments,
    document=True,
)
async def digest_file(offline: Offline, args: argparse.Namespace) -> int:
    try:
        period = digest_period(args.period, offline.env)
    except ArgumentError as exc:
        return offline.error(f"--period: {exc.message}")
    async with offline.unit(write=False) as store:
        data = await build(
            store,
            period,
            env=offline.env,
            config=offline.config,
            committee=offline.committee,
            now=offline.env.now(),
            viewer=Viewer(FILE_AUDIENCES[args.audience]),
        )
    out: Path = args.out
    picture = out.with_suffix(".png")
    out.parent.mkdir(parents=True, exist_ok=True)  # private, by the umask
    page, heatmap = await asyncio.to_thread(
        lambda: (offline.render("digest-html", data), offline.render("digest-png", data))
    )
    await asyncio.to_thread(out.write_bytes, page)
    await asyncio.to_thread(picture.write_bytes, heatmap)
    offline.say(f"wrote {out} and {picture} ({data['label']})")
    return 0
