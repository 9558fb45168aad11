"""The digest builder: everything the Steering Committee's report says about one period.

It reads only what the period needs (indexed by time) and is built for one audience, under
the one need-to-know rule (commands.audience): items it may see in full are listed, counted
and summed by sector and severity; the others appear with their title or their ID and label
where the rule allows, and otherwise add to one bare total. The result is plain JSON-ready
data: the chat message, the HTML file and the heatmap are all rendered from it, also later
and elsewhere (the outbox keeps it until the files are sent). It carries the most
restrictive label of what it shows.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from commands import i18n
from commands.audience import Show, Viewer, heard_by
from commands.broadcast.rollcall import elapsed, roll_call
from commands.calendar import Schedule, around, occurrence, period_start
from commands.deadlines import schedule_of
from commands.directory import ContactsConfig, unconfirmed, unreachable
from commands.framework import ArgumentError, ParseEnv
from commands.i18n import _
from commands.reference import Reference
from commands.scorecard import LADDER, RUNGS, SYMBOLS, UNKNOWN, counts
from commands.sections import Sections
from commands.taxonomy import CRIMES, type_name
from commands.tlp import label, most_restrictive, seen_rows
from commands.values import ShortId
from storage.bills import BillStore
from storage.feedback import ReportStore
from storage.incidents import Incident
from storage.lists import unpack
from storage.projects import Project
from storage.requests import RequestStore, tally
from storage.stores import Stores

MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
QUARTER = re.compile(r"^(\d{4})-q([1-4])$", re.IGNORECASE)
ROLLING = re.compile(r"^last-(\d{1,3})d$", re.IGNORECASE)
YEAR = re.compile(r"^(\d{4})$")
# What the chair may leave out of a digest as a whole (`!digest omit DG-n <section>`).
SECTIONS = (
    "notes", "changes", "incidents", "lessons", "resources", "broadcasts", "decisions",
    "projects", "directory", "deadlines", "actions",
)  # fmt: skip
NO_PROJECTS: dict[str, Any] = {"new": [], "progress": [], "active": 0, "funding": []}
NO_DIRECTORY: dict[str, Any] = {
    "total": 0, "unconfirmed": 0, "awaiting": 0, "unreachable": 0, "attention": []
}  # fmt: skip
NOTES = "green"  # the label status data and narrative updates are shared under
SEVERITIES = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class DigestPeriod:
    key: str
    start: datetime  # aware UTC
    end: datetime  # aware UTC, exclusive (never later than the moment it was asked for)
    label: str


def digest_period(text: str, env: ParseEnv) -> DigestPeriod:
    """`2026-11`, `2026-Q4`, `2026` (a year) or `last-30d`, in the committee's time zone."""
    # The end is exclusive: a hair after now, so what happened this instant is included.
    now, zone = env.now() + timedelta(microseconds=1), env.zone
    value = text.strip()
    if match := ROLLING.match(value):
        days = int(match.group(1))
        if not 1 <= days <= 366:
            raise ArgumentError(_("last-Nd takes between 1 and 366 days"))
        start = now - timedelta(days=days)
        span = f"{i18n.when(start, zone, '%-d %b')} – {i18n.when(now, zone, '%-d %b %Y')}"
        words = i18n.ngettext("the last {n} day ({span})", "the last {n} days ({span})", days)
        return DigestPeriod(f"last-{days}d", start, now, words.format(n=days, span=span))
    if match := MONTH.match(value):
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise ArgumentError(
                _("{text!r}: there is no month {month}").format(text=text, month=month)
            )
        first = datetime(year, month, 1, tzinfo=zone)
        after = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
        return _bounded(f"{year}-{month:02d}", first, after, i18n.when(first, zone, "%B %Y"), now)
    if match := QUARTER.match(value):
        year, q = int(match.group(1)), int(match.group(2))
        first = datetime(year, 3 * q - 2, 1, tzinfo=zone)
        after = datetime(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1, tzinfo=zone)
        last = after - timedelta(days=1)
        return _bounded(
            f"{year}-Q{q}",
            first,
            after,
            f"{year}-Q{q} ({i18n.when(first, zone, '%b')}–{i18n.when(last, zone, '%b %Y')})",
            now,
        )
    if match := YEAR.match(value):
        year = int(match.group(1))
        first, after = datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)
        return _bounded(f"{year}", first, after, _("the year {year}").format(year=year), now)
    raise ArgumentError(
        _("{text!r} is not a period; use YYYY-MM, YYYY-Qn, YYYY or last-30d").format(text=text)
    )


def _bounded(key: str, first: datetime, after: datetime, text: str, now: datetime) -> DigestPeriod:
    start, end = first.astimezone(UTC), after.astimezone(UTC)
    if start > now:
        raise ArgumentError(_("{key} has not started yet").format(key=key))
    return DigestPeriod(key, start, min(end, now), text)


def previous_month(now: datetime, env: ParseEnv) -> DigestPeriod:
    local = now.astimezone(env.zone)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return digest_period(f"{year}-{month:02d}", env)


def previous_quarter(now: datetime, env: ParseEnv) -> DigestPeriod:
    local = now.astimezone(env.zone)
    q = (local.month - 1) // 3
    year, q = (local.year, q) if q > 0 else (local.year - 1, 4)
    return digest_period(f"{year}-Q{q}", env)


async def build(
    store: Stores,
    period: DigestPeriod,
    *,
    env: ParseEnv,
    config: Sections,
    committee: str,
    now: datetime,
    viewer: Viewer,
    room_id: str | None = None,
    omit: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The digest of one period, as plain data, for the audience `viewer` stands for (in
    `room_id`, whose previous digest is the baseline for what changed).

    `omit` leaves records (`INC-3`, `LL-2`, `RS-4`) or whole sections (`SECTIONS`) out of it
    altogether, as if they did not exist: not listed, not counted, not summed.

    Its dates and durations are written in the language of the room it is for (a draft
    shows the chair what that room would read), else in the language being written."""
    language = await i18n.language_of(store, i18n.current(), room=room_id)
    with i18n.speaking(language):
        ncpocs = await store.roster.ncpocs()
        scored = {c.code for c in env.reference.countries.scored()}
        expected = sorted({e.country for e in ncpocs if e.country in scored})
        # The labels of what the digest shows; the status of the countries, the reporting and
        # the narrative updates carry none of their own: the committee shares them as GREEN.
        shown: list[str] = [NOTES]
        data: dict[str, Any] = {
            "lang": language,
            "committee": committee,
            "period": {"key": period.key, "label": period.label},
            "generated": _when(now, env.zone),
            "catalogue": env.reference.catalogue.label,
            "omitted": sorted(omit),
            "audit_head": dict(zip(("id", "hash"), await store.audit.head(), strict=True)),
        }
        data |= await _records(store, period, env.zone, viewer, shown, omit)
        data |= await _picture(store, period, env, config, viewer, expected, room_id, omit, now)
        # Its label: the strictest of what it shows, the viewer's count included (projects,
        # decisions, actions went through it).
        level = most_restrictive([*shown, *viewer.shown])
        data.update(tlp=level, label=label(level), carried=label(level))
        data["summary"] = await _summary(store, period, env.reference, data, set(expected))
        data["short_of_ncpocs"] = _short(ncpocs, env.reference, config)
        data["bills"] = await _bills(store, env.reference)
        data["empty"] = _empty(data)
        return data


async def _bills(store: Stores, ref: Reference) -> dict[str, Any]:
    """Legislation stage by stage: each country with a bill on record, each legal item's
    latest stage (status data: shared as GREEN, as the matrix is)."""
    stages = await store.of(BillStore).stages()
    items = sorted({i for _c, i in stages})
    countries = sorted({c for c, _i in stages})
    return {
        "items": items,
        "ladder": [[stage, RUNGS[stage]] for stage in LADDER],
        "rows": [
            {"name": ref.countries.name_of(c), "code": c,
             "cells": [stages.get((c, i), "") for i in items]}
            for c in countries
        ],
    }  # fmt: skip


def _short(ncpocs: list[Any], ref: Reference, config: Sections) -> list[dict[str, Any]]:
    """Countries with an NCPOC but fewer than each member state should have (two, by the
    plan): the committee's eyes in that country are thinner than agreed."""
    should = config.committee.max_ncpocs_per_country
    scored = {c.code for c in ref.countries.scored()}  # the rule is member states'
    counted = Counter(e.country for e in ncpocs if e.country in scored)
    return [
        {"name": ref.countries.name_of(code), "code": code, "has": n, "should": should}
        for code, n in sorted(counted.items())
        if n < should
    ]


async def _records(
    store: Stores,
    period: DigestPeriod,
    zone: ZoneInfo,
    viewer: Viewer,
    shown: list[str],
    omit: frozenset[str],
) -> dict[str, Any]:
    """What members shared in the period: incidents, lessons, resources and notes, each as
    the viewer may see it (the labels of what is shown gathered in `shown`)."""
    between = (period.start, period.end)
    return {
        "incidents": await _incidents(store, period, viewer, shown, omit),
        "lessons": await _shared(
            store.lessons.created_between(*between), "lesson", viewer, shown, omit
        ),
        "resources": await _shared(
            store.resources.created_between(*between), "resource", viewer, shown, omit
        ),
        "notes": [] if "notes" in omit else await _notes(store, period, zone, viewer, shown),
        "feedback": await feedback_rows(store, period.start, period.end, zone, viewer, shown),
        "requests": tally(
            await store.of(RequestStore).between(period.start, period.end), *between
        ),
    }


async def feedback_rows(
    store: Stores, start: datetime, end: datetime, zone: ZoneInfo, viewer: Viewer,
    shown: list[str],
) -> list[dict[str, Any]]:  # fmt: skip
    """The readers' feedback on reports given in [start, end), where this audience may
    read it in full (its labels gathered in `shown`); the rest is left out."""
    reports = store.of(ReportStore)
    found = await reports.feedback_between(start, end)
    records = await reports.profiles([f.report for f in found])
    rows = []
    for entry in found:
        if not viewer.in_full(entry.tlp, entry.origin_room, heard_by(entry)):
            continue
        shown.append(entry.tlp)
        record = records.get(entry.report)
        rows.append({
            "report": ShortId.RP.of(entry.report),
            "profile": record.profile if record else "",
            "period": record.period_label if record else "",
            "text": entry.text, "by": entry.author, "when": _when(entry.at, zone),
            "label": label(entry.tlp),
        })  # fmt: skip
    return rows


async def _picture(
    store: Stores,
    period: DigestPeriod,
    env: ParseEnv,
    config: Sections,
    viewer: Viewer,
    expected: list[str],
    room_id: str | None,
    omit: frozenset[str],
    now: datetime,
) -> dict[str, Any]:
    """The committee's picture of the period: reporting, the status matrix and what changed,
    deadlines, broadcasts, decisions, projects, the directory and the actions; a section
    in `omit` left out."""
    ref, zone = env.reference, env.zone

    async def unless(name: str, empty: Any, make: Callable[[], Awaitable[Any]]) -> Any:
        return empty if name in omit else await make()

    return {
        "compliance": await _compliance(store, period, expected, ref, config, zone, now),
        "matrix": await _matrix(store, period, ref, set(expected)),
        "changes": await unless(
            "changes", [], lambda: _changes(store, period, ref, zone, room_id)
        ),
        "deadlines": await unless("deadlines", [], lambda: _upcoming(store, config, zone, now)),
        "broadcasts": await unless(
            "broadcasts", [], lambda: _broadcasts(store, period, ref, zone)
        ),
        "decisions": await unless(
            "decisions", [], lambda: _decisions(store, period, zone, viewer)
        ),
        "projects": await unless(
            "projects", NO_PROJECTS, lambda: _projects(store, period, zone, viewer)
        ),
        "directory": await unless(
            "directory", NO_DIRECTORY, lambda: _directory(store, config, ref, now)
        ),
        "actions": await unless("actions", [], lambda: _actions(store, env, now, viewer)),
    }


def _empty(data: dict[str, Any]) -> bool:
    """Whether the period brought nothing to tell."""
    incidents, lessons, resources = data["incidents"], data["lessons"], data["resources"]
    return not (
        data["changes"]
        or data["notes"]
        or incidents["listed"]
        or incidents["titled"]
        or incidents["labelled"]
        or incidents["withheld"]
        or lessons["total"]
        or lessons["withheld"]
        or resources["total"]
        or resources["withheld"]
        or data["compliance"]["filed"]
        or data["broadcasts"]
        or data["decisions"]
        or data["projects"]["new"]
        or data["projects"]["progress"]
    )


async def _broadcasts(
    store: Stores, period: DigestPeriod, ref: Reference, zone: ZoneInfo
) -> list[dict[str, Any]]:
    """The period's broadcasts and drills with their results by country: never their text
    (it carries its own label), only the ID, severity, label and who answered."""
    found = []
    for b in await store.broadcasts.since(period.start, period.end):
        roll = roll_call(ref, b, await store.broadcasts.recipients(b.key))
        times = sorted(c["seconds"] for c in roll["countries"] if c["seconds"] is not None)
        found.append(
            {
                "id": roll["id"],
                "severity": b.severity,
                "exercise": b.exercise,
                "label": roll["tlp"],
                "sent": _when(b.created_at, zone),
                "answered": roll["answered"],
                "countries": roll["country_total"],
                "relayed": roll["relayed"],
                "median": elapsed(timedelta(seconds=times[len(times) // 2])) if times else None,
                "dark": [c["name"] for c in roll["dark"]],
            }
        )
    return found


async def _actions(
    store: Stores, env: ParseEnv, now: datetime, viewer: Viewer
) -> list[dict[str, Any]]:
    """Open actions, overdue first: the follow-up of the Steering Committee's meetings."""
    from commands.meetings.minutes import digest_actions

    rows = await digest_actions(store, env, now, viewer)
    return sorted(rows, key=lambda a: not a["overdue"])


async def _decisions(
    store: Stores, period: DigestPeriod, zone: ZoneInfo, viewer: Viewer
) -> list[dict[str, Any]]:
    """The motions decided in the period: what the committee adopted, rejected or let fail
    (each where its words' label lets the digest's room read them)."""
    from commands.motions.votes import decision_row

    def row(motion: Any) -> dict[str, Any]:
        return decision_row(motion) | {"decided": _when(motion.decided_at, zone)}

    rows, _hidden = seen_rows(
        viewer, await store.motions.decided_between(period.start, period.end), row
    )
    return rows


async def _projects(
    store: Stores, period: DigestPeriod, zone: ZoneInfo, viewer: Viewer
) -> dict[str, Any]:
    """Projects registered and progress reported in the period (section 8: quick wins and
    activities in progress), with who funds them (section 9)."""
    from storage.lists import unpack

    def brief(p: Project) -> dict[str, Any]:
        return {
            "id": f"PR-{p.number}", "title": p.title, "lead": p.lead, "status": p.status,
            "countries": unpack(p.countries), "items": unpack(p.items), "funding": p.funding,
            "target": p.target,
        }  # fmt: skip

    def seen(p: Any) -> bool:  # a project, its updates' notes too, where its label allows
        return viewer.in_full(p.tlp, p.origin_room, heard_by(p))

    new = [
        brief(p) | {"when": _when(p.created_at, zone)}
        for p in await store.projects.added_between(period.start, period.end)
        if seen(p)
    ]
    progress = []
    for update in await store.projects.updates_between(period.start, period.end):
        project = await store.projects.get(update.project)
        if project is not None and seen(project):
            progress.append(brief(project) | {"to": update.status, "note": update.note,
                                             "when": _when(update.at, zone)})  # fmt: skip
    active = [p for p in await store.projects.find(active_only=True) if seen(p)]
    funded: dict[str, int] = {}
    for p in active:
        funded[p.funding or "not stated"] = funded.get(p.funding or "not stated", 0) + 1
    return {
        "new": new,
        "progress": progress,
        "active": len(active),
        "funding": sorted(funded.items()),
    }


async def _directory(
    store: Stores, config: Sections, ref: Reference, now: datetime
) -> dict[str, Any]:
    """How current the contact directory is, by country: contacts not confirmed within
    the cycle, and those the bot cannot reach (no direct chat, no email). Counts only."""
    entries = await store.roster.national()
    direct = await store.rooms.direct_rooms()
    rows: dict[str, dict[str, Any]] = {}
    for e in entries:
        row = rows.setdefault(
            e.country or "",
            {
                "country": ref.countries.name_of(e.country),
                "total": 0,
                "unconfirmed": 0,
                "awaiting": 0,
                "unreachable": 0,
            },
        )
        row["total"] += 1
        every = config[ContactsConfig].confirm_every
        if e.confirmed_at is None and e.added_at + every >= now:
            row["awaiting"] += 1  # added within the cycle: not late, awaiting a first one
        else:
            row["unconfirmed"] += unconfirmed(e, every, now)
        row["unreachable"] += unreachable(e, direct) is not None  # offline: opened DMs count
    listed = sorted(rows.values(), key=lambda r: r["country"] or "")
    return {
        "total": sum(r["total"] for r in listed),
        "unconfirmed": sum(r["unconfirmed"] for r in listed),
        "awaiting": sum(r["awaiting"] for r in listed),
        "unreachable": sum(r["unreachable"] for r in listed),
        "attention": [r for r in listed if r["unconfirmed"] or r["unreachable"]],
    }


async def _notes(
    store: Stores, period: DigestPeriod, zone: ZoneInfo, viewer: Viewer, shown: list[str]
) -> list[dict]:
    """Narrative updates, where the audience may see GREEN in full."""
    if viewer.sees(NOTES) != Show.FULL:
        return []
    found = await store.status.notes(since=period.start, until=period.end, limit=200)
    return [
        {"country": n.country, "text": n.text, "by": n.author, "when": _when(n.at, zone)}
        for n in reversed(found)
    ]


async def _summary(
    store: Stores, period: DigestPeriod, ref: Reference, data: dict[str, Any], staffed: set[str]
) -> dict[str, Any]:
    """The page a minister reads first: compliance and its trend against the start of the
    period, the period's most important changes (items that reached the standard, then those
    that fell back), open high and critical incidents this audience may see (and a count of
    critical ones it may not), and the next
    deadline. Only from what the digest itself shows."""
    rows = [r for r in data["matrix"]["rows"] if r["code"] in staffed]
    # "At minimum standard" counts only items with a standard; the rest is progress.
    met = sum(r["standard_met"] for r in rows)
    applicable = sum(r["standards"] for r in rows)
    measured = [i.id for i in ref.catalogue.scored if i.measured]
    before = await store.status.states_at(
        [(r["code"], item) for r in rows for item in measured], period.start
    )
    met_before = sum(1 for u in before if u.state == "met")
    rank = {"met": 0, "in-progress": 2, "not-started": 3, "n/a": 4}
    changes = data["changes"]
    reached = [c for c in changes if c["to"] == "met"]
    fell = [c for c in changes if c["from"] == "met" and c["to"] != "met"]
    others = sorted(
        (c for c in changes if c not in reached and c not in fell),
        key=lambda c: rank.get(c["to"], 5),
    )
    incidents = data["incidents"]
    urgent = [
        i
        for i in incidents["full"]
        if i["severity"] in ("high", "critical") and i["status"] != "closed"
    ]
    # Critical ones this room may not see in full are counted, their status unsaid.
    veiled = incidents["titled"] + incidents["labelled"]
    critical_veiled = sum(1 for i in veiled if i["severity"] == "critical")
    return {
        "met": met,
        "applicable": applicable,
        "percent": round(100 * met / applicable) if applicable else 0,
        "items_met": sum(r["met"] for r in rows),
        "items_applicable": sum(r["applicable"] for r in rows),
        "countries": len(rows),
        "trend": met - met_before,
        "highlights": (reached + fell + others)[:5],
        "fell": len(fell),
        "urgent": urgent[:5],
        "critical_veiled": critical_veiled,
        "next_deadline": data["deadlines"][0] if data["deadlines"] else None,
    }


def _when(moment: datetime, zone: ZoneInfo) -> str:
    """A time with its zone's abbreviation (AST), so nobody reads it in their own."""
    return i18n.when(moment, zone, "%-d %b %Y %H:%M %Z")


def _late(delta: timedelta) -> str:
    """A duration in plain words: "under an hour", "5 hours", "1 day 17 hours"."""
    if delta < timedelta(hours=1):
        return _("under an hour")
    return i18n.span(delta, smallest="hour")


async def _compliance(
    store: Stores,
    period: DigestPeriod,
    expected: list[str],
    ref: Reference,
    config: Sections,
    zone: ZoneInfo,
    now: datetime,
) -> dict[str, Any]:
    filed = await store.status.reports(start=period.start, end=period.end)
    rounds = []
    for deadline in await store.deadlines.all():
        schedule = schedule_of(deadline, config)
        for k in _occurrences_in(schedule, period, zone):
            due = occurrence(schedule, k, zone)
            if deadline.cancelled_at is not None and deadline.cancelled_at < due:
                continue
            start = period_start(schedule, k, zone)
            reports = await store.status.reports(start=start, end=now + timedelta(seconds=1))
            first: dict[str, Any] = {}
            for report in reports:
                first.setdefault(report.country, report)
            on_time, late, missing = _sorted_by_when(first, expected, ref, due, zone, now)
            rounds.append(
                {
                    "id": ShortId.DL.of(deadline.number),
                    "title": deadline.title,
                    "due": _when(due, zone),
                    "expected": len(expected),
                    "on_time": on_time,
                    "late": late,
                    "missing": missing,
                }
            )
    return {
        "deadlines": rounds,
        "filed": sorted({r.country for r in filed}),
        "not_filed": [c for c in expected if c not in {r.country for r in filed}],
        "expected": len(expected),
    }


def _sorted_by_when(
    first: dict[str, Any],
    expected: list[str],
    ref: Reference,
    due: datetime,
    zone: ZoneInfo,
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The countries expected to report by `due`, as on time, late or missing, from the
    first report each filed."""
    names = ref.countries.by_code
    on_time: list[dict[str, Any]] = []
    late: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    for code in expected:
        name = names[code].name if code in names else code
        found = first.get(code)
        if found is None:
            missing.append({"code": code, "name": name, "overdue": _late(now - due)})
        elif found.at <= due:
            on_time.append({"code": code, "name": name, "when": _when(found.at, zone)})
        else:
            late.append({"code": code, "name": name, "late": _late(found.at - due)})
    return on_time, late, missing


def _occurrences_in(schedule: Schedule, period: DigestPeriod, zone: ZoneInfo) -> list[int]:
    last, _next = around(schedule, period.end - timedelta(microseconds=1), zone)
    found = []
    k = last
    while k is not None and k >= 0:
        due = occurrence(schedule, k, zone)
        if due < period.start:
            break
        found.append(k)
        k = k - 1 if schedule.every else None
    return sorted(found)


def _item_name(ref: Reference, item_id: str) -> str:
    """An item's name, for the reader (translated where it is shown, `| item`)."""
    found = ref.catalogue.item(item_id)
    return found.name if found else item_id


def _pairs(ref: Reference) -> list[tuple[str, str]]:
    return [(c.code, i.id) for c in ref.countries.scored() for i in ref.catalogue.scored]


async def _matrix(
    store: Stores, period: DigestPeriod, ref: Reference, staffed: set[str]
) -> dict[str, Any]:
    latest = await store.status.states_at(_pairs(ref), period.end)
    state = {(u.country, u.item_id): u.state for u in latest}
    catalogue = ref.catalogue
    by_country: dict[str, list] = {}
    for update in latest:
        by_country.setdefault(update.country, []).append(update)
    rows = []
    for country in ref.countries.scored():  # an observer reports, and is not scored
        tally = counts(by_country.get(country.code, []), catalogue.scored)
        rows.append(
            {
                "code": country.code,
                "name": country.name,
                "cells": [state.get((country.code, i.id), UNKNOWN) for i in catalogue.scored],
                "met": tally["met"],
                "applicable": tally["applicable"],
                "standard_met": tally["standard_met"],
                "standards": tally["standards"],
                "ncpoc": country.code in staffed,  # no NCPOC: nobody could report
                "reported": country.code in by_country,
            }
        )
    # The table and the picture list a row for a country with an NCPOC or something reported;
    # the others (no NCPOC, nothing reported) are named in one line. With nobody on the
    # roster yet, every country has its row.
    unstaffed = [r["name"] for r in rows if not (r["ncpoc"] or r["reported"])]
    everyone = len(unstaffed) == len(rows)
    for row in rows:
        row["listed"] = everyone or row["ncpoc"] or row["reported"]
    return {
        "items": [i.id for i in catalogue.scored],
        "names": [i.name for i in catalogue.scored],
        "areas": [
            {"id": a.id, "name": a.name, "size": len(catalogue.scored_in(a.id))}
            for a in catalogue.areas
        ],
        "rows": rows,
        "unstaffed": [] if everyone else unstaffed,
        "symbols": SYMBOLS,
        "catalogue": catalogue.label,
    }


async def _changes(
    store: Stores, period: DigestPeriod, ref: Reference, zone: ZoneInfo, room_id: str | None
) -> list[dict[str, Any]]:
    # Measured against the previous digest that reached the same room; without a room (a
    # file written by the CLI) against the start of the period.
    previous = await store.digests.previous(period.end, room_id=room_id) if room_id else None
    baseline = previous.posted_at if previous and previous.posted_at > period.start else None
    since = baseline or period.start
    before = {
        (u.country, u.item_id): u.state for u in await store.status.states_at(_pairs(ref), since)
    }
    latest: dict[tuple[str, str], Any] = {}
    for update in await store.status.changed_between(since, period.end):
        latest[(update.country, update.item_id)] = update
    changes = []
    for (country, item), update in sorted(latest.items()):
        was = before.get((country, item), UNKNOWN)
        if was != update.state:
            changes.append(
                {
                    "country": country,
                    "item": item,
                    "name": _item_name(ref, item),
                    "from": was,
                    "to": update.state,
                    "by": update.author,
                    "when": _when(update.at, zone),
                }
            )
    return changes


async def _incidents(
    store: Stores,
    period: DigestPeriod,
    viewer: Viewer,
    shown: list[str],
    omit: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Listed, counted and summed by sector and severity only where seen in full."""
    full, titled, labelled, withheld = [], [], [], 0
    found = (
        []
        if "incidents" in omit
        else await store.incidents.created_between(period.start, period.end)
    )
    for i in (i for i in found if ShortId.INC.of(i.number) not in omit):
        seen = viewer.sees(i.tlp, i.origin_room, heard_by(i))
        brief: dict[str, Any] = {
            "id": ShortId.INC.of(i.number),
            "severity": i.severity,
            "tlp": i.tlp,
            "label": label(i.tlp),
            "status": i.status,
        }
        if seen == Show.FULL:
            full.append(brief | _details(i))
        elif seen == Show.TITLE:
            titled.append(brief | {"title": i.title})
        elif seen == Show.LABEL:
            labelled.append(brief)
        else:
            withheld += 1
    shown.extend(i["tlp"] for i in full + titled)
    sectors = Counter(s for i in full for s in i["sectors"])
    severity = Counter(i["severity"] for i in full)
    return {
        "total": len(full),
        **await _intelligence(store, full),
        "by_severity": [{"name": s, "count": severity[s]} for s in SEVERITIES if severity[s]],
        "by_sector": [{"name": s, "count": n} for s, n in sorted(sectors.items())],
        "full": full,
        "titled": titled,
        "labelled": labelled,
        "withheld": withheld,
        "listed": len(full) + len(titled) + len(labelled),
        "open": sum(1 for i in full + titled + labelled if i["status"] != "closed"),
    }


def _details(incident: Incident) -> dict[str, Any]:
    """What a digest shows of an incident it may show in full, beside its ID and label."""
    return {
        "title": incident.title,
        "sectors": unpack(incident.sectors),
        "countries": unpack(incident.countries),
        "type": incident.rsit or "",
        "crime": incident.crime or "",
        "reporter_country": incident.reporter_country or "",
        "key": incident.id,
    }


async def _intelligence(store: Stores, full: list[dict[str, Any]]) -> dict[str, Any]:
    """What the incidents shown in full are: by type and link to other crime (English names,
    which templates translate), and the pairs of them known to share an indicator."""
    types = Counter(i["type"] for i in full if i["type"])
    crimes = Counter(i["crime"] for i in full if i["crime"])
    return {
        "by_type": [
            {"key": t, "name": type_name(t), "count": n} for t, n in sorted(types.items())
        ],
        "by_crime": [
            {"key": c, "name": CRIMES.get(c, c), "count": n} for c, n in sorted(crimes.items())
        ],
        "links": await _links(store, full),
    }


async def _links(store: Stores, full: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Incidents of two countries that share an indicator, both shown in full here."""
    by_key = {i["key"]: i for i in full}
    found = await store.incidents.links_among(list(by_key))
    return [
        {
            "a": by_key[a]["id"], "b": by_key[b]["id"],
            "countries": f"{by_key[a]['reporter_country'] or '—'}–"
            f"{by_key[b]['reporter_country'] or '—'}",
        }
        for a, b in found
    ]  # fmt: skip


async def _shared(
    rows_coro: Coroutine[Any, Any, list[Any]],
    kind: str,
    viewer: Viewer,
    shown: list[str],
    omit: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Lessons or resources: in full where the audience may see them, else only counted."""
    prefix = ShortId.LL if kind == "lesson" else ShortId.RS
    if f"{kind}s" in omit:
        rows_coro.close()  # never run: the section is left out
        rows: list[Any] = []
    else:
        rows = await rows_coro
    rows = [r for r in rows if prefix.of(r.number) not in omit]
    full = []
    for row in rows:
        if not viewer.in_full(row.tlp, row.origin_room, heard_by(row)):
            continue
        shown.append(row.tlp)
        if kind == "lesson":
            full.append(
                {
                    "id": ShortId.LL.of(row.number),
                    "text": row.text,
                    "area": row.area,
                    "tags": unpack(row.tags),
                    "tlp": row.tlp,
                    "label": label(row.tlp),
                }
            )
        else:
            full.append(
                {
                    "id": ShortId.RS.of(row.number),
                    "text": row.description,
                    "kind": row.kind,
                    "country": row.country or "regional",
                    "tlp": row.tlp,
                    "label": label(row.tlp),
                }
            )
    return {"total": len(full), "shown": full, "withheld": len(rows) - len(full)}


async def _upcoming(
    store: Stores, config: Sections, zone: ZoneInfo, now: datetime
) -> list[dict[str, str]]:
    upcoming = []
    for deadline in await store.deadlines.active():
        schedule = schedule_of(deadline, config)
        _last, following = around(schedule, now, zone)
        if following is not None:
            due = occurrence(schedule, following, zone)
            upcoming.append(
                {
                    "id": ShortId.DL.of(deadline.number),
                    "title": deadline.title,
                    "due": _when(due, zone),
                    "at": due.isoformat(),
                }
            )
    return sorted(upcoming, key=lambda d: d["at"])[:10]
