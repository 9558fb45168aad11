"""Reports on their cycles (Action Plan, section 8): CONSLE, the Heads of Intelligence and
FIUs, and the Caribbean Stakeholders Meeting each on a schedule of their own
(`[reports.consle]`, `[reports.heads]`, `[reports.csm]`).

At each slot the report of the period before is drafted for the readers it goes to — the
stricter of its profile's, its room's and, when it also goes by email, outsiders' (CLEAR and
GREEN only) — and sent to the chair like a digest's draft: `!report approve RP-n` delivers
exactly what the chair read, and only while it is still true (anything changed since: a new
version goes to the chair instead); `!report hold RP-n` stops it. Not approved within
`approve_within` it is sent to the chair once more, and after `draft_expires` it can no longer
be approved. The delivery is a job's, in the unit that marks the record delivered: once,
across restarts, as is the draft (its slot is a unique key per profile). A cycle may remind
the RCC room before its slot (the yearly meeting's: stakeholders' input with `!input csm`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator

from commands import i18n
from commands.audience import Audience, Viewer
from commands.context import Context, JobContext
from commands.digest.compose import (
    ApprovalConfig,
    as_json,
    check_version,
    cron,
    draft_version,
    next_slot,
    packed,
    scheduled_period,
    slots,
    stale,
)
from commands.digest.data import DigestPeriod
from commands.directory import valid_email
from commands.framework import CHAIR_ONLY, CommandError, FileSpec, Pos, Role, Router, Text, View
from commands.i18n import Deferred, _
from commands.reports.profiles import audience_for, files_of, report_data
from commands.sections import Duration, Section
from commands.tlp import label
from commands.types import typed_id
from commands.values import CHROME, Clearance, Ref, RefKind, RoomKind, Seal, ShortId
from storage.feedback import ReportRecord, ReportStore
from storage.lists import pack, unpack
from storage.stores import Stores

log = logging.getLogger(__name__)

router = Router("report cycles", templates=Path(__file__).parent / "templates")

JOB = "report cycle"
APPROVAL_JOB = "report approval"
CYCLES = ("consle", "heads", "csm")  # a cycle's job key is its place here, from 1
REPORT_ID = typed_id(ShortId.RP)
RETRY_ROOM = timedelta(minutes=1)
EMAILABLE = ("clear", "green")
NAMES = {
    "consle": "CONSLE (the Council of Ministers for National Security and Law Enforcement)",
    "heads": "the Heads of Intelligence and FIUs",
    "csm": "the Caribbean Stakeholders Meeting",
}


class CycleConfig(Section):
    """One profile's cycle: when, over what period, and where it goes."""

    schedule: str = Field(
        description='a cron expression in the committee\'s zone, e.g. "0 9 15 1,7 *"'
    )
    period: Literal["month", "quarter", "year", "last-30d"] = Field(
        "quarter", description="month, quarter, year or last-30d (the period before each slot)"
    )
    room: str = Field(
        "", description='"steering", "rcc" or the ID of a room the bot is in ("": none)'
    )
    email: tuple[str, ...] = Field(
        (), description='addresses, e.g. ["secretariat@example.org"]: CLEAR and GREEN only'
    )
    remind_before: Duration | None = Field(
        None, description='a duration such as "30d": the RCC room is reminded then (unset: no)'
    )

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a cycle needs a schedule")
        return cron(v)

    @field_validator("room")
    @classmethod
    def _room(cls, v: str) -> str:
        v = v.strip()
        if v and v not in ("steering", "rcc") and not (v.startswith("!") and ":" in v):
            raise ValueError(f'{v!r} is neither "steering", "rcc" nor a room ID (!id:server)')
        return v

    @field_validator("email")
    @classmethod
    def _email(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(valid_email(a) for a in v)

    @model_validator(mode="after")
    def _somewhere(self) -> CycleConfig:
        if not self.room and not self.email:
            raise ValueError("a cycle goes to a room, by email, or both: set room or email")
        return self


class ReportsConfig(ApprovalConfig):
    templates_dir: Path | None = Field(
        None, description="a folder of templates that replace the shipped ones (reports/…)"
    )
    consle: CycleConfig | None = Field(None, description="a [reports.consle] cycle")
    heads: CycleConfig | None = Field(None, description="a [reports.heads] cycle")
    csm: CycleConfig | None = Field(None, description="a [reports.csm] cycle")

    def cycle(self, profile: str) -> CycleConfig | None:
        found = getattr(self, profile, None)
        return found if isinstance(found, CycleConfig) else None


router.section("reports", ReportsConfig)


# --- the cycle: a draft at each slot, a reminder before ----------------------------------------


async def configured(store: Stores, config: Any, now: datetime) -> list[int]:
    reports = config[ReportsConfig]
    return [n for n, p in enumerate(CYCLES, 1) if reports.cycle(p) is not None]


@router.job(JOB, pending=configured, summary="a report drafted on its cycle; the reminder before")
async def run_cycle(job: JobContext, key: int) -> datetime | None:
    """Draft the report of the latest slot due and not yet drafted (slots missed while the
    bot was down collapse into one), remind before the next; returns when to look again."""
    if not 1 <= key <= len(CYCLES):
        return None
    profile = CYCLES[key - 1]
    cycle = job.config[ReportsConfig].cycle(profile)
    if cycle is None:
        return None
    now, zone = job.now, job.env.zone
    checked_key = f"report_{profile}_checked_at"
    checked = await job.store.state.get(checked_key)
    due = slots(cycle.schedule, zone, datetime.fromisoformat(checked), now) if checked else []
    if due and not await _draft_slot(job, profile, cycle, due[-1]):
        return now + RETRY_ROOM
    await job.store.state.set(checked_key, now.isoformat(), now=now)
    following = next_slot(cycle.schedule, zone, now)
    if following is None or cycle.remind_before is None:
        return following
    remind_at = following - cycle.remind_before
    reminded_key = f"report_{profile}_reminded"
    if await job.store.state.get(reminded_key) == following.isoformat():
        return following
    if now < remind_at:
        return remind_at
    await _remind(job, profile, following)
    await job.store.state.set(reminded_key, following.isoformat(), now=now)
    return following


async def _remind(job: JobContext, profile: str, slot: datetime) -> None:
    """The RCC room, before the slot: the report is drafted then from what is recorded."""
    room = job.rooms.get(RoomKind.RCC)
    if room is None:
        return
    words = partial(_reminder, profile, slot, job.env.zone, job.config.committee.command_prefix)
    await job.post(Deferred(words), room_id=room, seal=CHROME)  # in the room's language
    job.audit_detail = f"report cycle {profile}: reminded for {slot.isoformat()}"


def _reminder(profile: str, slot: datetime, zone: ZoneInfo, prefix: str) -> str:
    day = i18n.when(slot, zone, "%-d %b %Y")
    if profile == "csm":
        return _(
            "🗓️ The report for the Caribbean Stakeholders Meeting is drafted on {day}. Your "
            "input to the meeting — what the plan should change, what is missing — is listed "
            "in it: {prefix}input csm <text>"
        ).format(day=day, prefix=prefix)
    return _(
        "🗓️ The report for {readers} is drafted on {day} from what is recorded by then: "
        "bring your country's status up to date ({prefix}gaps shows what is missing)."
    ).format(readers=NAMES[profile], day=day, prefix=prefix)


def _room_of(job: JobContext | Context, cycle: CycleConfig) -> str | None:
    if cycle.room == "steering":
        return job.rooms.get(RoomKind.STEERING)
    if cycle.room == "rcc":
        return job.rooms.get(RoomKind.RCC)
    return cycle.room or None


async def _audience(
    job: JobContext | Context, profile: str, room: str | None, email: bool
) -> Audience:
    """Who reads it: the profile's readers, the room's where they are fewer, and outsiders
    (CLEAR and GREEN only) when it also goes by email."""
    found = audience_for(profile, await job.audience_of(room) if room else None)
    if email and found.clearance > Clearance.OUTSIDER:
        return Audience(Clearance.OUTSIDER)
    return found


async def _draft_slot(job: JobContext, profile: str, cycle: CycleConfig, slot: datetime) -> bool:
    reports = job.store.of(ReportStore)
    if await reports.slot_drafted(profile, slot):
        return True
    room = _room_of(job, cycle)
    if cycle.room and room is None:
        log.error("the %s report waits: its room is not known yet", profile)
        return False
    period = scheduled_period(cycle.period, slot, job.env)
    viewer = Viewer(await _audience(job, profile, room, bool(cycle.email)))
    data = await report_data(
        job.store, job.env, job.config, profile, None, period, viewer, job.now
    )
    data["late"] = job.now - slot > timedelta(minutes=2)
    places = ([f"room:{room}"] if room else []) + [f"mailto:{a}" for a in cycle.email]
    record = await reports.draft(
        profile=profile, period_key=period.key, period_label=period.label,
        period_start=period.start, period_end=period.end, tlp=data["tlp"],
        data=as_json(data), needs=int(viewer.needs), bound_to=packed(viewer.bound_to),
        destinations=pack(places), slot=slot, now=job.now,
    )  # fmt: skip
    name = ShortId.RP.of(record.number)
    job.audit_detail = f"report {profile} {period.key} slot {slot.isoformat()} {name}"
    if job.config[ReportsConfig].approval == "chair":
        await _to_chairs(job.store, record, data, job.post)
    else:
        record.state, record.decided_by, record.decided_at = "approved", "schedule", job.now
    job.wake(APPROVAL_JOB, record.number)
    return True


def record_seal(record: ReportRecord) -> Seal:
    """What a drafted report shows, as it was built for its readers."""
    bound = frozenset(unpack(record.bound_to)) if record.bound_to is not None else None
    return Seal(record.tlp, Clearance(record.needs), bound)


def _period(record: ReportRecord) -> DigestPeriod:
    assert record.period_start is not None and record.period_end is not None
    return DigestPeriod(
        record.period_key, record.period_start, record.period_end, record.period_label
    )


def _places(record: ReportRecord) -> tuple[str | None, list[str]]:
    """Where it goes: its room, and the addresses it is emailed to."""
    places = unpack(record.destinations)
    room = next((p.removeprefix("room:") for p in places if p.startswith("room:")), None)
    return room, [p.removeprefix("mailto:") for p in places if p.startswith("mailto:")]


def _where(record: ReportRecord) -> str:
    return _where_to(*_places(record))


def _where_to(room: str | None, emails: list[str]) -> str:
    parts = [room] if room else []
    if emails:
        parts.append(_("{n} email address(es)").format(n=len(emails)))
    return " + ".join(str(p) for p in parts)


async def _to_chairs(
    store: Stores, record: ReportRecord, data: dict, send: Any, *, again: bool = False
) -> None:
    """The draft, to each chair in a DM (in their language), with the files as they would
    be delivered."""
    words = Deferred(partial(_draft_words, record.number, record.version, record.profile,
                             record.period_label, record.tlp, _places(record), again))  # fmt: skip
    for entry in await store.roster.entries():
        if entry.role == Role.CHAIR:
            await send(
                words, to_user=entry.user_id, files=files_of(data, _period(record)),
                ref=Ref(RefKind.REPORT, record.number), seal=record_seal(record),
            )  # fmt: skip


def _draft_words(
    number: int, version: int, profile: str, period: str, level: str,
    places: tuple[str | None, list[str]], again: bool,
) -> str:  # fmt: skip
    name = ShortId.RP.of(number)
    return _(
        "📝 {again}{name}, version {version}: the {profile} report for {period} [{label}], "
        "drafted on its cycle, as {where} would receive it. Nothing is delivered until you "
        "approve it.\n!report approve {name} v{version} · !report hold {name} <reason>"
    ).format(
        again=_("Still waiting for your approval: ") if again else "",
        name=name, version=version, profile=profile, period=period, label=label(level),
        where=_where_to(*places),
    )  # fmt: skip


# --- the chair's decision -----------------------------------------------------------------------


async def _pending(store: Stores, number: int) -> ReportRecord:
    found = await store.of(ReportStore).get(number)
    if found is None or found.slot is None:
        raise CommandError(_("there is no draft report {id}").format(id=ShortId.RP.of(number)))
    if found.state != "draft":
        raise CommandError(
            _("{id} is {state} already").format(id=ShortId.RP.of(number), state=found.state)
        )
    return found


@router.command(
    "report approve",
    summary="deliver a report drafted on its cycle, as you read it",
    roles=CHAIR_ONLY,
    params=[Pos("id", REPORT_ID, "RP-n"), Pos("version", draft_version, "vN", optional=True)],
    example="!report approve RP-4 v1",
    details="As for the digest: it is delivered only as you read it. If anything in it "
    "changed since (a label raised, a record edited or withdrawn, its room's readers), it is "
    "rebuilt and sent to you again, and this approval is refused with the reason. With more "
    "than one chair, name the version you read. A draft expires (`[reports] draft_expires`).",
)
async def report_approve(ctx: Context, id: int, version: int | None) -> str:
    record = await _pending(ctx.store, id)
    name = ShortId.RP.of(id)
    config = ctx.config[ReportsConfig]
    if record.updated_at and ctx.now - record.updated_at > config.expires:
        raise CommandError(
            _("{name} was built too long ago to be approved: it has expired.").format(name=name)
        )
    await check_version(ctx, name, record.version, version, command="!report approve")
    current, viewer = await _rebuilt(ctx, record)
    before = json.loads(record.data or "{}")
    moved = [k for k in stale(before, current) if k not in ("today",)]
    if moved:
        record.data, record.tlp = as_json(current), current["tlp"]
        record.needs, record.bound_to = int(viewer.needs), packed(viewer.bound_to)
        record.version += 1
        record.updated_at, record.resent_at = ctx.now, None
        await _to_chairs(ctx.store, record, current, ctx.reply)
        ctx.audit_detail = f"{name} approval refused: changed ({', '.join(moved)})"
        return _(
            "⛔ {name} changed since your copy was built ({sections}): nothing was "
            "delivered. Version {version} is in your direct chat with the bot: read it, "
            "then approve that one."
        ).format(name=name, sections=", ".join(moved), version=record.version)
    record.state, record.decided_by, record.decided_at = "approved", ctx.sender, ctx.now
    ctx.wake(APPROVAL_JOB, record.number)
    ctx.audit_detail = f"{name} v{record.version} approved: {record.profile} {record.period_key}"
    return _(
        "✅ {name} is approved and on its way to {where}; you will be told if it cannot be "
        "delivered."
    ).format(name=name, where=_where(record))


async def _rebuilt(ctx: Context, record: ReportRecord) -> tuple[dict[str, Any], Viewer]:
    """The report built again now for the readers it goes to, as it would be stored."""
    room, emails = _places(record)
    viewer = Viewer(await _audience(ctx, record.profile, room, bool(emails)))
    data = await report_data(
        ctx.store, ctx.env, ctx.config, record.profile, None, _period(record), viewer, ctx.now
    )
    data["late"] = json.loads(record.data or "{}").get("late", False)
    return json.loads(as_json(data)), viewer


@router.command(
    "report hold",
    summary="stop a report drafted on its cycle: it is not delivered",
    roles=CHAIR_ONLY,
    params=[Pos("id", REPORT_ID, "RP-n"), Text("reason", "reason")],
    example="!report hold RP-4 wait for the Q4 figures from two countries",
)
async def report_hold(ctx: Context, id: int, reason: str) -> str:
    record = await _pending(ctx.store, id)
    record.state, record.decided_by, record.decided_at = "held", ctx.sender, ctx.now
    record.reason = " ".join(reason.split())[:500]
    ctx.audit_detail = f"{ShortId.RP.of(id)} held"
    return _("⏸️ {id} is held and will not be delivered.").format(id=ShortId.RP.of(id))


# --- delivery, reminders of the chair, expiry ------------------------------------------------


async def waiting(store: Stores, config: Any, now: datetime) -> list[int]:
    return [r.number for r in await store.of(ReportStore).waiting()]


@router.job(
    APPROVAL_JOB, pending=waiting, summary="a report on its cycle: delivered once approved"
)
async def settle_report(job: JobContext, key: int) -> datetime | None:
    """Approved: delivered, here, once (the record is marked in the same unit). A draft:
    sent to the chair once more after `approve_within`, expired after `draft_expires`."""
    record = await job.store.of(ReportStore).get(key)
    if record is None or record.state not in ("draft", "approved"):
        return None
    if record.state == "approved":
        await _deliver(job, record)
        return None
    config = job.config[ReportsConfig]
    built = record.updated_at or record.at
    expires = built + config.expires
    if job.now >= expires:
        record.state, record.decided_at, record.reason = "expired", job.now, "not approved in time"
        return None
    due = built + config.approve_within
    if record.resent_at is None and job.now >= due:
        record.resent_at = job.now
        await _to_chairs(job.store, record, json.loads(record.data or "{}"), job.post, again=True)
    return due if record.resent_at is None and due > job.now else expires


async def _deliver(job: JobContext, record: ReportRecord) -> None:
    """The report as approved, to its room and, at CLEAR or GREEN only, by email."""
    data = json.loads(record.data or "{}")
    name = ShortId.RP.of(record.number)
    room, emails = _places(record)
    seal = record_seal(record)
    files = files_of(data, _period(record))
    by = record.decided_by or "schedule"
    done: list[str] = []
    if room:
        words = partial(_delivered, name, record.profile, record.period_label, record.tlp, by)
        await job.post(
            Deferred(words), room_id=room, files=files, ref=Ref(RefKind.REPORT, record.number),
            seal=seal,
        )  # fmt: skip
        record.room_id = room
        done.append(room)
    if emails:
        if not job.config.mail:
            await _tell_chairs(job, partial(_not_emailed, name, None))
        elif seal.label not in EMAILABLE or seal.needs > Clearance.OUTSIDER or seal.bound_to:
            await _tell_chairs(job, partial(_not_emailed, name, seal.label))
        else:
            await _email(job, record, data, emails, files, seal)
            done.append(f"{len(emails)} email(s)")
    record.state = "delivered"
    record.at = job.now
    job.audit_detail = f"{name} {record.profile} {record.period_key} delivered: {', '.join(done)}"


async def _email(
    job: JobContext, record: ReportRecord, data: dict, emails: list[str],
    files: list[FileSpec], seal: Seal,
) -> None:  # fmt: skip
    committee = job.config.committee.name
    subject = (
        f"[{label(record.tlp)}] {committee}: the {record.profile} report for "
        f"{record.period_label} ({ShortId.RP.of(record.number)})"
    )
    body = View(
        "reports/email",
        {
            "id": ShortId.RP.of(record.number), "profile": record.profile,
            "readers": NAMES.get(record.profile, record.profile), "period": record.period_label,
            "committee": committee, "carried": label(record.tlp),
            "files": [f.filename for f in files],
        },
    )  # fmt: skip
    for address in emails:
        await job.email(
            address, subject, body, seal=seal, ref=Ref(RefKind.REPORT, record.number),
            files=files,
        )  # fmt: skip


def _delivered(name: str, profile: str, period: str, level: str, by: str) -> str:
    return _(
        "📄 {name}: the {profile} report for {period} [{label}], approved by {by}. Its "
        "readers' feedback: !feedback {name} <text>"
    ).format(name=name, profile=profile, period=period, label=label(level), by=by)


def _not_emailed(name: str, level: str | None) -> str:
    """Why a report was not emailed: no SMTP server (`level` None), or its label."""
    why = (
        _("it was not emailed: the bot has no [smtp] server")
        if level is None
        else _("it was not emailed: it carries {label}").format(label=label(level))
    )
    return _("⚠️ {name}: {why}.").format(name=name, why=why)


async def _tell_chairs(job: JobContext, words: Callable[[], str]) -> None:
    for chair in await job.chairs():  # each in their own language
        await job.post(Deferred(words), to_user=chair, seal=CHROME)
