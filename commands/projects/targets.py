"""Dates kept: a project's `target=` reminds whoever registered it before the month ends and
is flagged overdue after it (to them and the chair), once each, resumed after a restart like
every job; `!timeline` lists every dated target — the catalogue's items (a motion's `by=`)
and the projects — soonest first, overdue ones marked.

A target is a month (`2027-06`): it falls due when that month ends, in the committee's time
zone (Action Plan, section 10: the plan's estimated timeframes).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field

from commands.audience import Show, Viewer, heard_by, needs, sealed
from commands.context import Context, JobContext
from commands.framework import READERS, ArgumentError, ParseEnv, Pos, Router, View
from commands.i18n import N_, Deferred, _
from commands.reference import Area, Country
from commands.sections import Duration, Section, Sections
from commands.status import area
from commands.tlp import carried
from commands.types import country
from commands.values import Ref, RefKind, Seal, ShortId
from storage.lists import unpack
from storage.projects import ACTIVE, REGIONAL, Project
from storage.stores import Stores

router = Router(
    "targets",
    templates=Path(__file__).parent / "templates",
    topic=N_("target dates: the plan's items and the projects, kept"),
)
JOB = "project target"


class TargetsConfig(Section):
    remind_before: Duration = Field(
        timedelta(days=30), description='a duration such as "30d" before a target month ends'
    )


router.section("targets", TargetsConfig)


def due_of(target: str, zone: ZoneInfo) -> datetime:
    """The moment a target month (`2027-06`) ends: the first instant of the next month."""
    year, month = (int(p) for p in target.split("-"))
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)


async def projects_with_targets(store: Stores, config: Sections, now: datetime) -> list[int]:
    return [p.number for p in await store.projects.with_targets() if p.overdue_at is None]


def _seal(project: Project) -> Seal:
    """Its title is said: what a title-level reader may see, RED only to those who heard it."""
    if project.tlp == "red":
        return sealed("red", heard_by(project))
    return Seal(project.tlp, needs(project.tlp, Show.TITLE))


@router.job(JOB, pending=projects_with_targets, summary="a project's target: before, and after")
async def keep_target(job: JobContext, project_key: int) -> datetime | None:
    """Once before its target month ends, to whoever registered it; once after, to them and
    the chair. Returns when to look again (the key is the project's number)."""
    found = await job.store.projects.get(project_key)
    if found is None or found.target is None or found.status not in ACTIVE:
        return None
    due = due_of(found.target, job.env.zone)
    remind_at = due - job.config[TargetsConfig].remind_before
    name = ShortId.PR.of(found.number)

    async def tell(users: list[str], text: Deferred) -> None:
        for user in dict.fromkeys(users):
            await job.post(text, to_user=user, mentions=[user], alert=True, seal=_seal(found),
                           ref=Ref(RefKind.PROJECT, found.number))  # fmt: skip

    if found.reminded_at is None and remind_at <= job.now < due:
        found.reminded_at = job.now
        await tell([found.created_by], Deferred(partial(_soon, name, found.title, found.target)))
    if found.overdue_at is None and job.now >= due:
        found.overdue_at = job.now
        late = Deferred(partial(_late, name, found.title, found.target, found.status))
        await tell([found.created_by, *await job.chairs()], late)
        return None
    later = [t for t in (remind_at, due) if t > job.now]
    return min(later) if later else None


ITEMS_JOB = "item targets"
STATUS_SEAL = sealed("green")  # a country's state on an item: status, shared as GREEN
KEPT = "target:{item}:{target}:{kind}"  # the bot's state: an item target's notice, said


async def always(store: Stores, config: Sections, now: datetime) -> list[int]:
    return [0]  # one record: the catalogue in force


@router.job(ITEMS_JOB, pending=always, summary="the catalogue's target dates: before, and after")
async def keep_item_targets(job: JobContext, catalogue_key: int) -> datetime | None:
    """For each item with a target (a motion's by=): the NCPOCs of each country that has not
    met it are reminded before its month ends; once it has, the chair is told who has not.
    Each once per item and target (kept in the bot's state). Returns when to look again."""
    items = [i for i in job.env.reference.catalogue.scored if i.target and i.measured]
    if not items:
        return job.now + timedelta(days=1)  # a motion may set one: look again tomorrow
    before = job.config[TargetsConfig].remind_before
    states = {(u.country, u.item_id): u.state for u in await job.store.status.latest()}
    ncpocs = await job.store.roster.ncpocs()
    later: list[datetime] = [job.now + timedelta(days=1)]
    for item in items:
        due = due_of(item.target or "", job.env.zone)
        behind = sorted({e.country or "" for e in ncpocs} - {
            c for (c, i), state in states.items() if i == item.id and state in ("met", "n/a")
        })  # fmt: skip
        if due - before <= job.now < due and await _first(job, item.id, item.target, "remind"):
            for entry in (e for e in ncpocs if e.country in behind):
                state = states.get((entry.country or "", item.id), "unreported")
                words = Deferred(partial(_item_soon, item.id, item.target, entry.country, state))
                await job.post(words, to_user=entry.user_id, mentions=[entry.user_id],
                               alert=True, seal=STATUS_SEAL)  # fmt: skip
        if job.now >= due and behind and await _first(job, item.id, item.target, "overdue"):
            listed = ", ".join(f"{c} ({states.get((c, item.id), 'unreported')})" for c in behind)
            for chair in await job.chairs():
                words = Deferred(partial(_item_late, item.id, item.target, listed))
                await job.post(words, to_user=chair, mentions=[chair], alert=True,
                               seal=STATUS_SEAL)  # fmt: skip
        later += [t for t in (due - before, due) if t > job.now]
    return min(later)


async def _first(job: JobContext, item: str, target: str | None, kind: str) -> bool:
    """Whether this notice is said now for the first time (and mark it said)."""
    key = KEPT.format(item=item, target=target, kind=kind)
    if await job.store.state.get(key) is not None:
        return False
    await job.store.state.set(key, job.now.isoformat(), now=job.now)
    return True


def _item_soon(item: str, target: str | None, country: str | None, state: str) -> str:
    return _(
        "📅 The minimum standard of {item} is due by the end of {target}; {country} is "
        "{state}. When it is met: !status set {item} met"
    ).format(item=item, target=target, country=country, state=state)


def _item_late(item: str, target: str | None, listed: str) -> str:
    return _("⚠️ The minimum standard of {item} was due by {target}; not met in: {listed}.").format(
        item=item, target=target, listed=listed
    )


def _soon(name: str, title: str, target: str) -> str:
    return _(
        "📅 {name} “{title}” has its target at the end of {target}. Say where it stands: "
        "!project update {name} status=<under-way|completed|stalled> <note>"
    ).format(name=name, title=title, target=target)


def _late(name: str, title: str, target: str, status: str) -> str:
    return _("⚠️ {name} “{title}” is past its target ({target}) and still {status}.").format(
        name=name, title=title, target=target, status=status
    )


def _scope(text: str, env: ParseEnv) -> Area | Country:
    """A priority area (`legal`) or a country (`JM`, `Jamaica`)."""
    try:
        return country(text, env)
    except ArgumentError:
        return area(text, env)


@router.command(
    "timeline",
    summary="every target date, soonest first: the catalogue's items and the projects",
    roles=READERS,
    params=[Pos("scope", _scope, "area|country", optional=True)],
    example="!timeline legal",
    details="An item's target is the month its standard is due (a motion's by=); a "
    "project's, its target=. Overdue ones are marked. With an area: its items and the "
    "projects on them; with a country: its projects and the regional ones, and its state "
    "on each item.",
)
async def timeline(ctx: Context, scope: Area | Country | None) -> View:
    rows = await dated(ctx.store, ctx.env, ctx.viewer, ctx.now, scope)
    return View("targets/timeline", {"rows": rows} | _scope_words(scope) | carried(ctx))


async def dated(
    store: Stores, env: ParseEnv, viewer: Viewer, now: datetime,
    scope: Area | Country | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Every target this viewer may see, soonest first: for `!timeline` and the reports'
    timeline picture."""
    rows = await _items(store, env, now, scope) + await _projects(store, env, viewer, now, scope)
    rows.sort(key=lambda r: (r["target"], r["what"]))
    return rows


def _scope_words(scope: Area | Country | None) -> dict[str, Any]:
    if isinstance(scope, Country):
        return {"scope": f"{scope.name} ({scope.code})", "area": False}
    return {"scope": scope.name if scope else "", "area": scope is not None}


async def _items(
    store: Stores, env: ParseEnv, now: datetime, scope: Area | Country | None
) -> list[dict[str, Any]]:
    """The items with a target; for a country, its state on each (status is GREEN)."""
    catalogue = env.reference.catalogue
    states: dict[str, str] = {}
    if isinstance(scope, Country):
        latest = await store.status.latest(scope.code)
        states = {u.item_id: u.state for u in latest}
    picked = [
        i for i in catalogue.scored
        if i.target and (not isinstance(scope, Area) or i.area == scope.id)
    ]  # fmt: skip
    return [
        {
            "target": i.target, "what": i.id, "kind": "item", "name": i.name,
            "standard": i.standard, "overdue": due_of(i.target or "", env.zone) <= now,
            "state": states.get(i.id, "unreported") if isinstance(scope, Country) else "",
        }
        for i in picked
    ]  # fmt: skip


async def _projects(
    store: Stores, env: ParseEnv, viewer: Viewer, now: datetime, scope: Area | Country | None
) -> list[dict[str, Any]]:
    rows = []
    area_items = {i.id for i in env.reference.catalogue.scored_in(scope.id)} if (
        isinstance(scope, Area)
    ) else None  # fmt: skip
    for project in await store.projects.with_targets():
        where = unpack(project.countries)
        if isinstance(scope, Country) and not {scope.code, REGIONAL} & set(where):
            continue
        if area_items is not None and not area_items & set(unpack(project.items)):
            continue
        if viewer.sees(project.tlp, project.origin_room, heard_by(project)) < Show.TITLE:
            continue
        rows.append({
            "target": project.target, "what": ShortId.PR.of(project.number), "kind": "project",
            "name": project.title, "lead": project.lead, "status": project.status,
            "overdue": due_of(project.target or "", env.zone) <= now,
            "since": project.created_at.astimezone(env.zone).strftime("%Y-%m"),
        })  # fmt: skip
    return rows
