"""The committee's dates in a national official's calendar: `!meetings ics`, `!deadlines ics`,
`!actions ics` in a DM, and `rcc-bot calendar --out F.ics` — iCalendar files (RFC 5545, via
the `icalendar` package) with repeats (RRULE), reminders (VALARM, as the bot's own reminders
fall) and the label in each description.

Only what the reader may see: meetings and deadlines are the committee's schedule, shown to
every reader and carried as GREEN; an action by its own label, where the reader's DM may read
it in full. Each event's UID is the record's (`rcc-mt-3@<the committee's server>`), so a
calendar that imports the file again replaces its events rather than duplicating them. A
recurring meeting is a chain of records: only the last of a chain carries the repeat rule, so
no occurrence is listed twice.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from commands.audience import FILE_AUDIENCES, Viewer, heard_by
from commands.calendar import around, occurrence
from commands.context import Context
from commands.deadlines import schedule_of
from commands.framework import READERS, CommandError, FileSpec, Offline, Router
from commands.i18n import N_, _
from commands.meetings.minutes import MeetingsConfig
from commands.sections import Sections
from commands.tlp import label, most_restrictive
from commands.values import ShortId
from storage.stores import Stores

router = Router("calendars", topic=N_("the committee's dates in your calendar"))

SCHEDULE_LABEL = "green"  # meetings and deadlines: the committee's schedule
RULES: dict[str, dict[str, Any]] = {
    "month": {"FREQ": "MONTHLY"}, "quarter": {"FREQ": "MONTHLY", "INTERVAL": 3},
    "year": {"FREQ": "YEARLY"},
}  # fmt: skip
MEETING_LENGTH = timedelta(hours=1)
KINDS = ("meetings", "deadlines", "actions")


def domain(config: Sections) -> str:
    """The committee's server, for UIDs that stay the same wherever the file is made."""
    return config.committee.rcc_room.partition(":")[2] or "rcc-bot.invalid"


async def events(
    store: Stores, config: Sections, viewer: Viewer, now: datetime, kinds: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The events of the kinds asked for, as the viewer may see them (plain data: it travels
    in a file spec)."""
    found: list[dict[str, Any]] = []
    if "meetings" in kinds:
        found += await _meetings(store, config, viewer)
    if "deadlines" in kinds:
        found += await _deadlines(store, config, viewer, now)
    if "actions" in kinds:
        found += await _actions(store, config, viewer)
    return found


def _event(
    uid: str, summary: str, start: datetime, *, end: datetime | None = None,
    rule: dict | None = None, alarms: list[timedelta], level: str, where: str = "",
    text: str = "",
) -> dict[str, Any]:  # fmt: skip
    return {
        "uid": uid, "summary": summary, "start": start.isoformat(),
        "end": end.isoformat() if end else None, "rule": rule,
        "alarms": [int(a.total_seconds()) for a in alarms], "label": label(level),
        "where": where, "text": text,
    }  # fmt: skip


async def _meetings(store: Stores, config: Sections, viewer: Viewer) -> list[dict[str, Any]]:
    viewer.sees(SCHEDULE_LABEL)
    before, host = config[MeetingsConfig].remind_before, domain(config)
    return [
        _event(
            f"rcc-mt-{m.number}@{host}", f"{ShortId.MT.of(m.number)} {m.title}", m.starts_at,
            end=m.starts_at + MEETING_LENGTH,
            rule=RULES.get(m.every or "") if m.followed_by is None else None,
            alarms=[before], level=SCHEDULE_LABEL, where=m.room_kind,
        )
        for m in await store.meetings.upcoming()
    ]  # fmt: skip


async def _deadlines(
    store: Stores, config: Sections, viewer: Viewer, now: datetime
) -> list[dict[str, Any]]:
    """Each active deadline at its next occurrence (or its last, when none follows)."""
    viewer.sees(SCHEDULE_LABEL)
    found, zone, host = [], config.committee.zone, domain(config)
    for d in await store.deadlines.active():
        schedule = schedule_of(d, config)
        last, following = around(schedule, now, zone)
        k = following if following is not None else last
        if k is None:
            continue
        found.append(_event(
            f"rcc-dl-{d.number}@{host}", f"{ShortId.DL.of(d.number)} {d.title}",
            occurrence(schedule, k, zone), rule=RULES.get(d.every or ""),
            alarms=list(schedule.remind), level=SCHEDULE_LABEL,
        ))  # fmt: skip
    return found


async def _actions(store: Stores, config: Sections, viewer: Viewer) -> list[dict[str, Any]]:
    """The open actions this viewer may read in full, each by its own label."""
    before, host = config[MeetingsConfig].action_remind_before, domain(config)
    return [
        _event(
            f"rcc-ac-{a.number}@{host}", f"{ShortId.AC.of(a.number)} {a.text[:120]}", a.due_at,
            alarms=[before], level=a.tlp, where=a.owner, text=a.text,
        )
        for a in await store.meetings.actions()
        if viewer.in_full(a.tlp, a.origin_room, heard_by(a))
    ]  # fmt: skip


@router.file("calendar-ics")
def ics(data: dict[str, Any]) -> bytes:
    """An iCalendar file of the events: each with its UID, its repeat rule, its alarms and
    its label in the description."""
    from icalendar import Alarm, Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", f"-//{data['committee']}//rcc-bot//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", data["name"])
    stamp = datetime.fromisoformat(data["made"])
    for e in data["events"]:
        event = Event()
        event.add("uid", e["uid"])
        event.add("dtstamp", stamp)
        event.add("summary", e["summary"])
        start = datetime.fromisoformat(e["start"]).astimezone(UTC)
        event.add("dtstart", start)
        event.add("dtend", datetime.fromisoformat(e["end"]) if e["end"] else start)
        if e["rule"]:
            event.add("rrule", e["rule"])
        where = f" · {e['where']}" if e.get("where") else ""
        event.add("description", f"[{e['label']}] {e.get('text') or e['summary']}{where}")
        event.add("class", "CONFIDENTIAL" if e["label"] != "TLP:CLEAR" else "PUBLIC")
        for seconds in e["alarms"]:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", e["summary"])
            alarm.add("trigger", timedelta(seconds=-seconds))
            event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()


async def _send(ctx: Context, kinds: tuple[str, ...], name: str) -> None:
    if not ctx.is_direct:
        raise CommandError(_("a calendar file is sent only in a direct message with the bot"))
    found = await events(ctx.store, ctx.config, ctx.viewer, ctx.now, kinds)
    data = {"committee": ctx.config.committee.name, "name": f"{ctx.config.committee.name} "
            f"{name}", "made": ctx.now.isoformat(), "events": found}  # fmt: skip
    level = most_restrictive(["clear", *ctx.viewer.shown])
    filename = f"rcc-{name}.ics"
    ctx.audit_detail = f"calendar {name}: {len(found)} events"
    await ctx.reply(
        _("📅 {n} of the committee's {what} as a calendar file [{label}]: open it, or import "
          "it again later — your calendar replaces what changed.").format(
            n=len(found), what=name, label=label(level)),
        files=[FileSpec(filename, "calendar-ics", "text/calendar", data, filename)],
        seal=ctx.viewer.seal(),
    )  # fmt: skip


@router.command(
    "meetings ics",
    summary="the meetings ahead as a calendar file (in a DM)",
    roles=READERS,
    example="!meetings ics",
    details="Each meeting with its reminder; a recurring one repeats. Import it again later: "
    "the calendar replaces what changed (each meeting keeps its UID).",
)
async def meetings_ics(ctx: Context) -> None:
    await _send(ctx, ("meetings",), "meetings")


@router.command(
    "deadlines ics",
    summary="the reporting deadlines as a calendar file (in a DM)",
    roles=READERS,
    example="!deadlines ics",
    details="Each deadline at its next occurrence, repeating as it does, with an alarm at each "
    "of its reminders.",
)
async def deadlines_ics(ctx: Context) -> None:
    await _send(ctx, ("deadlines",), "deadlines")


@router.command(
    "actions ics",
    summary="the open actions you may read as a calendar file (in a DM)",
    roles=READERS,
    example="!actions ics",
    details="Each open action at its due date, with its label in the description; only those "
    "your direct chat may read in full.",
)
async def actions_ics(ctx: Context) -> None:
    await _send(ctx, ("actions",), "actions")


def _calendar_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="the .ics file")
    parser.add_argument(
        "--audience", choices=("steering", "rcc"), default="steering",
        help="who it is for: the Steering Committee (the default) or the RCC",
    )  # fmt: skip


@router.verb(
    "calendar",
    help="write the meetings, deadlines and open actions as an iCalendar file (.ics)",
    arguments=_calendar_arguments,
    document=True,
)
async def calendar_file(offline: Offline, args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.suffix.lower() != ".ics":
        return offline.error(f"--out: {out.name} must end in .ics")
    now = offline.env.now()
    viewer = Viewer(FILE_AUDIENCES[args.audience])
    async with offline.unit(write=False) as store:
        found = await events(store, offline.config, viewer, now, KINDS)
    data = {"committee": offline.config.committee.name, "name": offline.config.committee.name,
            "made": now.isoformat(), "events": found}  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)  # private, by the umask
    content = await asyncio.to_thread(offline.render, "calendar-ics", data)
    await asyncio.to_thread(out.write_bytes, content)
    offline.say(f"wrote {out}: {len(found)} events")
    return 0
