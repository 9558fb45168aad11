"""The register of projects and activities (`!project`, `!projects`), the duplication view,
and `!help-with`: who can help a country close a gap.

Section 2 of the Action Plan: initiatives "properly synchronised, duplication is eliminated";
section 4: the RCC coordinates projects; section 7 names the partners for each need.
"""

from __future__ import annotations

from dataclasses import asdict
from itertools import combinations
from pathlib import Path
from typing import Any

from commands.audience import Show, Viewer, heard_by, hearers
from commands.common import own_country
from commands.context import Context
from commands.framework import (
    CONTRIBUTORS,
    READERS,
    ArgumentError,
    CommandError,
    Opt,
    ParseEnv,
    Pos,
    Refused,
    Role,
    Router,
    Text,
    View,
)
from commands.i18n import N_, _
from commands.motions.votes import month
from commands.reference import Catalogue, Country, Item, Reference
from commands.status import item
from commands.tlp import carried, carried_by, label, present, said, seen_rows, tlp
from commands.types import choice, country, typed_id, yes_no
from commands.values import ShortId
from storage.funding import FundingStore
from storage.lists import unpack
from storage.projects import REGIONAL, Project
from storage.resources import Resource
from storage.status import StatusUpdate
from storage.stores import Stores

router = Router(
    "projects",
    templates=Path(__file__).parent / "templates",
    topic=N_("projects under the plan, and who leads them"),
)
STATUSES = ("planned", "under-way", "completed", "stalled", "cancelled")
PROJECT_ID = typed_id(ShortId.PR)
MAX_FIELD = 300


def names(text: str, _env: ParseEnv) -> list[str]:
    """`a; b` or `a, b`: partner names."""
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    if not parts or any(len(p) > 200 for p in parts):
        raise ArgumentError(_("list the names separated by commas (each up to 200 characters)"))
    return list(dict.fromkeys(parts))


def where(text: str, env: ParseEnv) -> list[str]:
    """`JM,TT` or `regional`."""
    if text.strip().casefold() == REGIONAL:
        return [REGIONAL]
    return list(dict.fromkeys(country(p, env).code for p in text.split(",") if p.strip()))


def items(text: str, env: ParseEnv) -> list[str]:
    return list(dict.fromkeys(item(p, env).id for p in text.split(",") if p.strip()))


def short(text: str, _env: ParseEnv) -> str:
    if len(text) > MAX_FIELD:
        raise ArgumentError(_("at most {MAX_FIELD} characters").format(MAX_FIELD=MAX_FIELD))
    return text.strip()


def row(project: Project, catalogue: Catalogue) -> dict:
    return {
        "id": ShortId.PR.of(project.number),
        "number": project.number,
        "title": project.title,
        "lead": project.lead,
        "partners": unpack(project.partners),
        "funding": project.funding,
        "countries": unpack(project.countries),
        "items": unpack(project.items),
        "target": project.target,
        "status": project.status,
        "version": project.version,
        "quick_win": project.quick_win,
    }


@router.command(
    "project add",
    summary="register a project or activity: who leads it, with whom, where, on which items",
    roles=CONTRIBUTORS | {Role.STEERING},
    params=[
        Opt("lead", short, "agency", required=True),
        Opt("partners", names, "a,b"),
        Opt("funding", short, "source"),
        Opt("countries", where, "JM,TT|regional"),
        Opt("items", items, "item,item"),
        Opt("target", month, "YYYY-MM"),
        Opt("tlp", tlp),
        Opt("quick-win", yes_no, "yes"),
        Text("title", "title"),
    ],
    example='!project add Cybercrime bill drafting lead="Commonwealth Secretariat" '
    "countries=JM,TT items=legal.cybercrime target=2027-06 tlp=green",
    details='Quote a value with spaces: lead="CARICOM IMPACS". Without countries= the '
    "project is your country's (the chair's: regional). Without tlp= it is AMBER: the "
    "register, digests and reports show it where AMBER may be read. quick-win=yes marks "
    "one of the plan's quick wins (section 8): `!projects quick-wins` lists them. A Steering "
    "member registers their own organisation's projects (lead= is their agency on the "
    "roster); its funding: !project fund.",
)
async def project_add(
    ctx: Context,
    lead: str,
    partners: list[str] | None,
    funding: str | None,
    countries: list[str] | None,
    items: list[str] | None,
    target: str | None,
    tlp: str | None,
    quick_win: bool | None,
    title: str,
) -> str:
    title = title.strip()
    if not title or len(title) > MAX_FIELD:
        raise CommandError(
            _("give the project a title (up to {MAX_FIELD} characters)").format(
                MAX_FIELD=MAX_FIELD
            )
        )
    mine = own_country(ctx)
    if not ctx.has_role(Role.CHAIR, Role.NCPOC):
        await _own_organisation(ctx, lead)
    chosen = countries or ([mine.code] if mine else [REGIONAL])
    catalogue = ctx.env.reference.catalogue
    project = await ctx.store.projects.add(
        title=title, lead=lead, partners=partners or [], funding=funding or "",
        countries=chosen, items=items or [], target=target, version=catalogue.version,
        author=ctx.sender, event_id=ctx.event_id, now=ctx.now, tlp=said(ctx, tlp),
        origin_room=ctx.room_id, said_to=hearers(ctx.viewer.audience), quick_win=bool(quick_win),
    )  # fmt: skip
    name = ShortId.PR.of(project.number)
    ctx.audit_detail = f"{name} added {project.tlp}"
    if target is not None:
        ctx.wake(TARGET_JOB, project.number)  # its target is kept from now on
    overlaps = [
        p for p in await _active(ctx) if p.number != project.number and _overlap(p, project)
    ]
    also = ""
    if overlaps:
        listed = ", ".join(f"{ShortId.PR.of(p.number)} “{p.title}” ({p.lead})" for p in overlaps)
        also = " " + _(
            "⚠️ It overlaps in country and item with {listed}: see !projects overlap."
        ).format(listed=listed)
    done = _("✅ {name} “{title}” registered ({countries}).").format(
        name=name, title=title, countries=", ".join(chosen)
    )
    return done + also


async def _own_organisation(ctx: Context, lead: str) -> None:
    """A Steering member registers their own organisation's projects: the agency the roster
    names for them leads it."""
    entry = await ctx.store.roster.find(ctx.sender, Role.STEERING)
    agency = entry.agency if entry else None
    if not agency or not _same(agency, lead):
        raise Refused(
            _("a Steering member registers their own organisation's projects: lead= is "
              "{agency}").format(agency=agency or _("your agency (not on the roster yet)"))
        )  # fmt: skip


async def _check_lead(ctx: Context, project: Project) -> None:
    """A project is updated by its lead — the NCPOCs of the lead country (the one its `lead`
    names, or the one country it is for), the Steering member of the lead agency — by whoever
    registered it, or by the chair."""
    if ctx.has_role(Role.CHAIR) or project.created_by == ctx.sender:
        return
    countries = ctx.env.reference.countries
    named = countries.resolve(project.lead)
    where = [c for c in unpack(project.countries) if c != REGIONAL]
    lead = named.code if named else (where[0] if len(where) == 1 else None)
    mine = own_country(ctx)
    if lead is not None and mine is not None and mine.code == lead:
        return
    steering = await ctx.store.roster.find(ctx.sender, Role.STEERING)
    if steering is not None and _same(steering.agency, project.lead):
        return
    raise Refused(
        _("{id} is led by {lead}: its lead, whoever registered it or the chair updates it").format(
            id=ShortId.PR.of(project.number), lead=project.lead
        )
    )


def _same(agency: str | None, lead: str) -> bool:
    return bool(agency) and " ".join((agency or "").casefold().split()) == " ".join(
        lead.casefold().split()
    )


@router.command(
    "project update",
    summary="a project's progress: its status and a note (its lead, or the chair)",
    roles=CONTRIBUTORS | {Role.STEERING},
    params=[
        Pos("id", PROJECT_ID, "PR-n"),
        Opt("status", choice(*STATUSES), "|".join(STATUSES), required=True),
        Text("note", "note", required=False),
    ],
    example="!project update PR-2 status=under-way first workshop held in Kingston",
)
async def project_update(ctx: Context, id: int, status: str, note: str) -> str:
    project = await ctx.store.projects.get(id)
    present(ctx, project, ShortId.PR.of(id))
    assert project is not None
    await _check_lead(ctx, project)
    sees(ctx.viewer, project)  # its title is in the answer: the answer carries its label
    was = project.status
    await ctx.store.projects.update(
        project, status=status, note=note.strip()[:2000], author=ctx.sender,
        event_id=ctx.event_id, now=ctx.now,
    )  # fmt: skip
    ctx.audit_detail = f"{ShortId.PR.of(id)} {was} -> {status}"
    return _("✅ {id} “{title}” is {status} (was {was}).").format(
        id=ShortId.PR.of(id), title=project.title, status=status, was=was
    )


def _filter(text: str, env: ParseEnv) -> tuple[str, str]:
    """A country, an item, `overlap`, or a partner's name."""
    key = text.strip()
    if key.casefold() == "overlap":
        return "overlap", ""
    if key.casefold().replace("_", "-") in ("quick-wins", "quick-win", "quickwins"):
        return "quick-wins", "quick-wins"
    found = env.reference.countries.resolve(key)
    if found is not None:
        return "country", found.code
    entry = env.reference.catalogue.item(key)
    if entry is not None:
        return "item", entry.id
    return "partner", key


@router.command(
    "projects",
    summary="the register: all projects, or a country's, an item's, a partner's; `overlap` "
    "lists those that duplicate each other, `quick-wins` the plan's quick wins",
    roles=READERS,
    params=[
        Pos("filter", _filter, "country|item|partner|overlap|quick-wins", optional=True, words=6)
    ],
    example="!projects overlap",
)
async def projects(ctx: Context, filter: tuple[str, str] | None) -> View:
    catalogue = ctx.env.reference.catalogue
    kind, value = filter or ("", "")
    if kind == "overlap":
        pairs = overlaps(await _active(ctx))
        shown = [(row(a, catalogue), row(b, catalogue), shared) for a, b, shared in pairs]
        return View("projects/overlap", {"pairs": shown} | carried(ctx))
    found = await ctx.store.projects.find(
        country=value if kind == "country" else None,
        item=value if kind == "item" else None,
        partner=value if kind == "partner" else None,
        quick_wins=kind == "quick-wins",
    )
    rows, hidden = seen_rows(ctx.viewer, found, lambda p: row(p, catalogue))
    lines = await ctx.store.of(FundingStore).current([p.number for p in found])
    for r in rows:  # each project's money, line by line (shown with the project)
        r["lines"] = [
            f"{f.amount:,.2f} {f.currency} {f.state} ({f.funder})"
            for f in lines.get(r["number"], [])
        ]
    data = {"rows": rows, "filter": value, "hidden": hidden}
    if kind == "item":  # the help the region delivered on it (a pooling item's record)
        data["requests"] = await delivered_on(ctx, value)
    return View("projects/list", data | carried(ctx))


async def delivered_on(ctx: Context, item_id: str) -> list[dict[str, str]]:
    """Requests for assistance on an item the region delivered, as this room may read them."""
    from storage.requests import RequestStore

    found = []
    for r in await ctx.store.of(RequestStore).find(states=("delivered", "closed")):
        if (
            r.item == item_id
            and r.delivered_at is not None
            and ctx.viewer.in_full(r.tlp, r.origin_room, heard_by(r))
        ):
            found.append({"id": ShortId.RQ.of(r.number), "country": r.country,
                          "kind": r.kind, "text": r.text, "label": label(r.tlp)})  # fmt: skip
    return found


async def _active(ctx: Context) -> list[Project]:
    """The active projects this room may read in full."""
    found = await ctx.store.projects.find(active_only=True)
    return [p for p in found if ctx.viewer.in_full(p.tlp, p.origin_room, heard_by(p))]


def sees(viewer: Viewer, project: Project) -> Show:
    return viewer.sees(project.tlp, project.origin_room, heard_by(project))


def _overlap(a: Project, b: Project) -> list[str]:
    """What two projects share: items, in a country both cover (a regional one covers all)."""
    where_a, where_b = set(unpack(a.countries)), set(unpack(b.countries))
    same_place = REGIONAL in where_a or REGIONAL in where_b or bool(where_a & where_b)
    shared = sorted(set(unpack(a.items)) & set(unpack(b.items)))
    return shared if same_place else []


def overlaps(active: list[Project]) -> list[tuple[Project, Project, list[str]]]:
    """Pairs of active projects on the same item in the same country."""
    return [(a, b, s) for a, b in combinations(active, 2) if (s := _overlap(a, b))]


# --- who can help -----------------------------------------------------------------------------


def partners_of(entry: Item, catalogue: Catalogue) -> list[str]:
    """The partners the Action Plan names for an item (a section 5 example: its table row's)."""
    named = list(entry.partners)
    if entry.related:
        for other in catalogue.items:
            if other.table_ref and f"Table {other.table_ref[0]}, need {other.table_ref[1]}" == (
                entry.related
            ):
                named += other.partners
    return list(dict.fromkeys(named))


def resource_row(resource: Resource) -> dict[str, Any]:
    """A resource as who-can-help lists show it (one its readers may read in full)."""
    return {"id": ShortId.RS.of(resource.number), "kind": resource.kind,
            "country": resource.country, "description": resource.description,
            "label": label(resource.tlp)}  # fmt: skip


async def helpers(
    store: Stores,
    reference: Reference,
    viewer: Viewer,
    entry: Item,
    country: str | None,
    latest: list[StatusUpdate] | None = None,
) -> dict:
    """Who can help close a gap on one item: countries that met it, the resources linked to
    it (`item=`; only those the audience may read in full, none of the country's own),
    projects under way, the plan's partners."""
    if latest is None:
        latest = await store.status.latest()
    met = sorted({u.country for u in latest if u.item_id == entry.id and u.state == "met"})
    met = [c for c in met if c != country]
    found = await store.resources.find(in_full=viewer.audience.in_full(), item=entry.id)
    offered = [
        r for r in found
        if (country is None or r.country != country)
        and viewer.in_full(r.tlp, r.origin_room, heard_by(r))
    ]  # fmt: skip
    under_way, _hidden = seen_rows(
        viewer,
        await store.projects.find(item=entry.id, country=country, active_only=True),
        lambda p: row(p, reference.catalogue),
    )
    return {
        "item": asdict(entry),  # plain data: it travels in a file spec (JSON)
        "met": [f"{reference.countries.name_of(c)} ({c})" for c in met],
        "resources": [resource_row(r) for r in offered],
        "projects": under_way,
        "partners": partners_of(entry, reference.catalogue),
    } | carried_by(viewer)


@router.command(
    "help-with",
    summary="who can help close a gap: countries that met the item, their resources, "
    "projects under way, the partners the Action Plan names",
    roles=READERS,
    params=[Pos("item", item, "<item>"), Pos("country", country, "country", optional=True)],
    example="!help-with legal.cybercrime DM",
)
async def help_with(ctx: Context, item: Item, country: Country | None) -> View:
    chosen = country or own_country(ctx)
    data = await helpers(
        ctx.store, ctx.env.reference, ctx.viewer, item, chosen.code if chosen else None
    )
    data["for"] = chosen.name if chosen else None
    return View("projects/help", data)


# Dates kept and money: this family's other routers.
from commands.projects import funding, targets  # noqa: E402

TARGET_JOB = targets.JOB
routers = (router, targets.router, funding.router)
