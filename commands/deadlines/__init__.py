"""`!deadline`: reporting deadlines. Reminders and escalation are in `commands.reminders`."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from commands.calendar import STEP_MONTHS, Schedule, around, occurrence, period_start
from commands.context import Context
from commands.deadlines.dates import natural
from commands.framework import (
    CHAIR_ONLY,
    READERS,
    ArgumentError,
    CommandError,
    Opt,
    ParseEnv,
    Pos,
    Router,
    Text,
    View,
)
from commands.i18n import N_, Moment, _
from commands.periods import Period, quarter
from commands.sections import Duration, Offsets, Section, Sections
from commands.types import choice, csv, duration, typed_id
from commands.values import ShortId
from storage.deadlines import Deadline
from storage.lists import pack, unpack
from storage.stores import Stores

log = logging.getLogger(__name__)
router = Router(
    "deadlines",
    templates=Path(__file__).parent / "templates",
    topic=N_("reporting deadlines and their reminders"),
)

JOB = "deadline"  # the job that reminds and escalates (commands.reminders)

DUE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?)?$",
    re.IGNORECASE,
)
MAX_OFFSET = timedelta(days=366)


@dataclass(frozen=True)
class DueInput:
    """A date as typed: local wall time, with a fixed UTC offset when one was given."""

    local: datetime  # naive
    has_time: bool
    offset: timedelta | None


def due(text: str, env: ParseEnv) -> DueInput:
    """`YYYY-MM-DD`, optionally `HH:MM`, optionally an offset (`-04:00`, `Z`); or a date as
    people type it (`tomorrow 17:00`, `next Friday`, `15 Dec 1:43pm`), in the committee's zone."""
    try:
        return parse_due(text)
    except ArgumentError as strict:
        if strict.specific:
            raise
        try:
            local, has_time = natural(text, env)
        except ArgumentError:
            raise strict from None
        return DueInput(local, has_time, None)


def parse_due(text: str) -> DueInput:
    """A typed date, as in a command or in the config."""
    match = DUE.match(text.strip())
    if not match:
        raise ArgumentError(
            _("{text!r} is not a date like 2026-12-15 or 2026-12-15 17:00").format(text=text)
        )
    year, month, day, hour, minute, second, offset = match.groups()
    try:
        local = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError as exc:
        raise ArgumentError(
            _("{text!r} is not a real date/time ({exc})").format(text=text, exc=exc), specific=True
        ) from None
    return DueInput(local, hour is not None, _offset(offset) if offset else None)


def _offset(text: str) -> timedelta:
    if text.upper() == "Z":
        return timedelta(0)
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))


def zone(text: str, _env: ParseEnv) -> ZoneInfo:
    try:
        return ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ArgumentError(
            _("{text!r} is not an IANA time zone like America/Jamaica").format(text=text)
        ) from None


def resolve_due(typed: DueInput, tz: ZoneInfo, config: Sections) -> datetime:
    """The aware UTC moment a typed date means."""
    local = typed.local
    if not typed.has_time:
        hour, minute = (int(p) for p in config[DeadlinesConfig].default_time.split(":"))
        local = local.replace(hour=hour, minute=minute)
    aware = local.replace(tzinfo=timezone(typed.offset) if typed.offset is not None else tz)
    return aware.astimezone(UTC)


def schedule_of(deadline: Deadline, config: Sections) -> Schedule:
    return Schedule(
        due=deadline.due_at,
        every=deadline.every,
        remind=tuple(timedelta(seconds=int(s)) for s in unpack(deadline.remind)),
        created_at=deadline.created_at,
        followup_every=config[DeadlinesConfig].followup_every,
        max_followups=config[DeadlinesConfig].max_followups,
    )


def pack_offsets(offsets: Iterable[timedelta]) -> str:
    return pack(str(int(o.total_seconds())) for o in sorted(set(offsets), reverse=True))


def check_offsets(offsets: Iterable[timedelta], every: str | None) -> None:
    for offset in offsets:
        if offset > MAX_OFFSET:
            raise CommandError(
                _("a reminder {days} days ahead is too early (at most 366)").format(
                    days=offset.days
                )
            )
        if every and offset >= timedelta(days=28 * STEP_MONTHS[every]):
            raise CommandError(
                _(
                    "a reminder {days} days ahead does not fit between occurrences every {every}"
                ).format(days=offset.days, every=every)
            )


def current_period(
    now: datetime, zone: ZoneInfo, deadlines: Iterable[Deadline], config: Sections
) -> Period:
    """The open reporting period: the one the nearest upcoming deadline closes."""
    best: tuple[datetime, Deadline, int] | None = None
    for deadline in deadlines:
        schedule = schedule_of(deadline, config)
        _last, following = around(schedule, now, zone)
        if following is None:
            continue
        due_at = occurrence(schedule, following, zone)
        if best is None or due_at < best[0]:
            best = (due_at, deadline, following)
    if best is None:
        return quarter(now, zone)
    due_at, deadline, k = best
    start = period_start(schedule_of(deadline, config), k, zone)
    key = f"{ShortId.DL.of(deadline.number)} {due_at.astimezone(zone):%Y-%m-%d}"
    return Period(key, start, due_at, zone, deadline.title)


async def open_period(ctx: Context) -> Period:
    return current_period(ctx.now, ctx.env.zone, await ctx.store.deadlines.active(), ctx.config)


def when(moment: datetime, tz: ZoneInfo) -> Moment:
    """`Tue 15 Dec 2026 17:00 (America/Port_of_Spain)`, the names in the reader's language."""
    return Moment(moment, tz, "%a %-d %b %Y %H:%M", show_zone=True)


@router.command(
    "deadline add",
    summary="set a reporting deadline; countries that have not reported are reminded",
    roles=CHAIR_ONLY,
    params=[
        Pos("due", due, "<YYYY-MM-DD[ HH:MM]>", words=4),
        Opt("remind", csv(duration), "14d,7d,1d"),
        Opt("every", choice(*STEP_MONTHS), "month|quarter|year"),
        Opt("zone", zone, "<IANA zone>"),
        Text("title", "title"),
    ],
    example="!deadline add 2026-12-15 17:00 Q4 status report remind=14d,7d,1d every=quarter",
    details="Dates are in the committee's time zone unless zone= or an offset (-04:00) says "
    "otherwise; a date alone means the configured default time (17:00). Reports filed with "
    "!status submit during the period count.",
)
async def deadline_add(
    ctx: Context,
    due: DueInput,
    remind: list[timedelta] | None,
    every: str | None,
    zone: ZoneInfo | None,
    title: str,
) -> str:
    tz = zone or ctx.env.zone
    due_at = resolve_due(due, tz, ctx.config)
    if due_at <= ctx.now:
        raise CommandError(
            _("{when} has already passed; give a future date").format(when=when(due_at, tz))
        )
    offsets = remind or list(ctx.config[DeadlinesConfig].remind)
    check_offsets(offsets, every)
    if len(title) > 300:
        raise CommandError(_("the title is too long (at most 300 characters)"))
    deadline = await ctx.store.deadlines.add(
        title=title,
        due_at=due_at,
        every=every,
        remind=pack_offsets(offsets),
        created_by=ctx.sender,
        now=ctx.now,
    )
    ctx.wake(JOB, deadline.key)
    ctx.audit_detail = f"{ShortId.DL.of(deadline.number)} due {due_at.isoformat()}"
    schedule = schedule_of(deadline, ctx.config)
    start = period_start(schedule, 0, ctx.env.zone).astimezone(ctx.env.zone)
    ahead = ", ".join(_short(o) for o in sorted(set(offsets), reverse=True))
    skipped = [o for o in offsets if due_at - o < ctx.now]
    past = ", ".join(_short(o) for o in skipped)
    note = " " + _("({offsets} already past)").format(offsets=past) if skipped else ""
    repeat = "; " + _("repeats every {every}").format(every=every) if every else ""
    return _(
        "✅ {id} “{title}” is due {when}. Reminders {ahead} "
        "before{note} to countries that have not reported since "
        "{start}{repeat}."
    ).format(
        id=ShortId.DL.of(deadline.number),
        title=title,
        when=when(due_at, ctx.env.zone),
        ahead=ahead,
        note=note,
        start=Moment(start, ctx.env.zone, "%-d %b %Y"),
        repeat=repeat,
    )


def _short(offset: timedelta) -> str:
    seconds = int(offset.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@router.command(
    "deadline list",
    summary="deadlines ahead, with who has reported for each",
    roles=READERS,
    example="!deadline list",
)
async def deadline_list(ctx: Context) -> View:
    rows = []
    ncpocs = await ctx.store.roster.ncpocs()
    expected = sorted({e.country for e in ncpocs if e.country})
    for deadline in await ctx.store.deadlines.active():
        schedule = schedule_of(deadline, ctx.config)
        last, following = around(schedule, ctx.now, ctx.env.zone)
        k = following if following is not None else last
        if k is None:
            continue
        due_at = occurrence(schedule, k, ctx.env.zone)
        start, missing = await not_reported(
            ctx.store, schedule, k, ctx.env.zone, ctx.now, expected
        )
        reported = [c for c in expected if c not in missing]
        rows.append(
            {
                "id": ShortId.DL.of(deadline.number),
                "title": deadline.title,
                "due": when(due_at, ctx.env.zone),
                "passed": due_at <= ctx.now,
                "every": deadline.every,
                "remind": ", ".join(_short(o) for o in schedule.remind),
                "since": start.astimezone(ctx.env.zone),
                "reported": reported,
                "missing": missing,
            }
        )
    return View("deadlines/list", {"rows": rows})


async def not_reported(
    store: Stores, schedule: Schedule, k: int, zone: ZoneInfo, now: datetime, expected: list[str]
) -> tuple[datetime, list[str]]:
    """When occurrence `k`'s reporting period began, and the expected countries that have
    not filed a report since."""
    start = period_start(schedule, k, zone)
    reports = await store.status.reports(start=start, end=now + timedelta(seconds=1))
    filed = {r.country for r in reports}
    return start, [c for c in expected if c not in filed]


@router.command(
    "deadline cancel",
    summary="cancel a deadline: no more reminders or follow-ups for it",
    roles=CHAIR_ONLY,
    params=[Pos("id", typed_id(ShortId.DL), "<DL-n>")],
    example="!deadline cancel DL-3",
)
async def deadline_cancel(ctx: Context, id: int) -> str:
    deadline = await ctx.store.deadlines.get(id)
    if deadline is None:
        raise CommandError(_("there is no {id}").format(id=ShortId.DL.of(id)))
    if deadline.status != "active":
        raise CommandError(_("{id} is already cancelled").format(id=ShortId.DL.of(id)))
    await ctx.store.deadlines.cancel(deadline, now=ctx.now)
    ctx.wake(JOB, deadline.key)
    ctx.audit_detail = f"{ShortId.DL.of(id)} cancelled"
    return _("✅ {id} “{title}” is cancelled; no more reminders will be sent for it.").format(
        id=ShortId.DL.of(id), title=deadline.title
    )


@router.on_prepare
async def apply_config_deadlines(store: Stores, config: Sections, now: datetime) -> None:
    """Create the config's deadlines (`[[deadline]]`) that do not exist yet (keyed by
    title), once, at start. A one-off deadline already past is skipped; one cancelled by
    command stays cancelled."""
    zone = config.committee.zone
    for entry in config.entries(DeadlineEntryConfig):
        if await store.deadlines.by_config_key(entry.title) is not None:
            continue
        typed = parse_due(entry.due)
        due_at = resolve_due(typed, zone, config)
        if entry.every is None and due_at <= now:
            continue
        offsets = entry.remind or config[DeadlinesConfig].remind
        deadline = await store.deadlines.add(
            title=entry.title,
            due_at=due_at,
            every=entry.every,
            remind=pack_offsets(offsets),
            created_by="config",
            now=now,
            config_key=entry.title,
        )
        log.info("deadline DL-%s created from the config", deadline.number)


CONFIG_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
CONFIG_DUE = re.compile(r"^\d{4}-\d{2}-\d{2}( ([01]\d|2[0-3]):[0-5]\d)?$")


class DeadlinesConfig(Section):
    remind: Offsets = Field(
        (timedelta(days=14), timedelta(days=7), timedelta(days=1)),
        description='durations before a deadline, e.g. "14d,7d,1d"',
    )
    followup_every: Duration = Field(
        timedelta(days=7), description='how often overdue countries are chased, e.g. "7d"'
    )
    max_followups: int = Field(3, ge=0, le=52, description="a number from 0 to 52")
    default_time: str = Field("17:00", description='a time of day, e.g. "17:00"')

    @field_validator("default_time")
    @classmethod
    def _time(cls, v: str) -> str:
        if not CONFIG_TIME.match(v):
            raise ValueError(f"{v!r} is not a time of day HH:MM")
        return v


class DeadlineEntryConfig(Section):
    title: str = Field(description='a title, e.g. "Quarterly status report"')
    due: str = Field(description='a date "YYYY-MM-DD" or "YYYY-MM-DD HH:MM" (committee zone)')
    every: Literal["month", "quarter", "year"] | None = Field(
        None, description="month, quarter or year"
    )
    remind: Offsets | None = Field(None, description='durations, e.g. "14d,7d,1d"')

    @field_validator("due")
    @classmethod
    def _due(cls, v: str) -> str:
        if not CONFIG_DUE.match(v):
            raise ValueError(f"{v!r} is not a date YYYY-MM-DD or YYYY-MM-DD HH:MM")
        return v


router.section("deadlines", DeadlinesConfig)
router.section("deadline", DeadlineEntryConfig, many=True)
