"""`!gaps`: the gap analysis the Action Plan asks for, per country or region-wide."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from commands.audience import Viewer, heard_by
from commands.common import own_country
from commands.context import Context
from commands.digest.data import NOTES
from commands.framework import (
    READERS,
    FileSpec,
    Opt,
    Pos,
    Router,
    View,
)
from commands.i18n import N_
from commands.projects import helpers
from commands.reference import Area, Catalogue, Country, Item, Reference
from commands.scorecard import SYMBOLS, UNKNOWN, counts, matrix, standing
from commands.tlp import carried, label, most_restrictive
from commands.types import country, yes_no
from commands.values import ShortId
from storage.requests import RequestStore
from storage.status import StatusUpdate
from storage.stores import Stores

router = Router("gaps", topic=N_("what a country still has to do, and who can help"))


@router.command(
    "gaps",
    summary="items not at their minimum standard; without a country, the region-wide matrix",
    roles=READERS,
    params=[
        Pos("country", country, "country", optional=True, words=5),
        Opt("report", yes_no, "yes"),
    ],
    example="!gaps TT report=yes",
    details="The matrix shows one symbol per item, grouped by priority area, and the number "
    "of items each country has met (the scorecard says how many of those have a minimum "
    "standard). NCPOCs: `!gaps` alone shows the region; "
    "name your country for its list. report=yes adds the country's gap analysis report "
    "(HTML): each gap with who can help.",
)
async def gaps(ctx: Context, country: Country | None, report: bool | None) -> View | None:
    if country is None and report:
        country = own_country(ctx)
    if country is not None and report:
        data = await gap_report(
            ctx.store, ctx.env.reference, ctx.viewer, country, now=ctx.now,
            zone=ctx.env.zone, committee=ctx.config.committee.name,
        )  # fmt: skip
        caption = f"Gap analysis — {data['country']} (HTML, {data['label']})"
        await ctx.reply(
            await _list(ctx, country),
            files=[FileSpec(f"rcc-gaps-{country.code}.html", "gaps-html", "text/html", data,
                            caption)],
        )  # fmt: skip
        return None
    if country is None:
        ctx.viewer.sees(NOTES)  # status is shared under the committee's GREEN
        return View("status/matrix", matrix(ctx, await ctx.store.status.latest()) | carried(ctx))
    return await _list(ctx, country)


async def assistance(
    store: Stores, viewer: Viewer, country: str, zone: Any
) -> list[dict[str, Any]]:
    """The country's requests for assistance the region delivered (`!request`), each where
    its label lets the report's readers see it: what was asked, who helped, the feedback."""
    requests = store.of(RequestStore)
    found = []
    for r in await requests.find(country=country, states=("delivered", "closed")):
        if r.delivered_at is None or not viewer.in_full(r.tlp, r.origin_room, heard_by(r)):
            continue
        offer = await requests.get_offer(r.accepted_offer) if r.accepted_offer else None
        found.append({
            "id": ShortId.RQ.of(r.number), "kind": r.kind, "item": r.item or "",
            "text": r.text, "label": label(r.tlp), "feedback": r.feedback or "",
            "delivered": r.delivered_at.astimezone(zone).strftime("%-d %b %Y"),
            "by": (f"{offer.country} ({offer.author})" if offer.country else offer.author)
            if offer else "",
        })  # fmt: skip
    return found


def gaps_by_area(
    catalogue: Catalogue, latest: dict[str, StatusUpdate]
) -> list[tuple[Area, list[tuple[Item, StatusUpdate | None, dict[str, Any]]]]]:
    """The scored items not met (nor n/a) of one country, by area: each with its latest
    update and what every listing shows of it."""
    areas = []
    for area in catalogue.areas:
        missing = []
        for entry in catalogue.scored_in(area.id):
            update = latest.get(entry.id)
            state = update.state if update else UNKNOWN
            if state not in ("met", "n/a"):
                shown = {
                    "id": entry.id,
                    "name": entry.name,
                    "standard": entry.standard,
                    "status": entry.status,
                    "state": state,
                    "symbol": SYMBOLS[state],
                }
                missing.append((entry, update, shown))
        if missing:
            areas.append((area, missing))
    return areas


async def _list(ctx: Context, country: Country) -> View:
    latest = {u.item_id: u for u in await ctx.store.status.latest(country.code)}
    catalogue = ctx.env.reference.catalogue
    areas = [
        {"name": area.name, "items": [shown for *_rest, shown in missing]}
        for area, missing in gaps_by_area(catalogue, latest)
    ]
    tally = counts(latest.values(), catalogue.scored)
    own = own_country(ctx)
    ctx.viewer.sees(NOTES)  # status is shared under the committee's GREEN
    return View(
        "status/gaps",
        {
            "country": f"{country.name} ({country.code})",
            "areas": areas,
            "met": tally["met"],
            "applicable": tally["applicable"],
            "standard_met": tally["standard_met"],
            "standards": tally["standards"],
            "standing": standing(tally),
            "mine": own is not None and own.code == country.code,
            "catalogue": catalogue.label,
        }
        | carried(ctx),
    )


async def gap_report(
    store: Stores,
    reference: Reference,
    viewer: Viewer,
    country: Country,
    *,
    now: datetime,
    zone: Any,
    committee: str,
) -> dict[str, Any]:
    """One country's gap analysis (section 6, output 1): each item not at its minimum
    standard, with who can help close it; labelled by the most restrictive item shown."""
    catalogue = reference.catalogue
    everyone = await store.status.latest()
    mine = {u.item_id: u for u in everyone if u.country == country.code}
    viewer.sees(NOTES)  # status is shared under the committee's GREEN
    areas = []
    for area, missing in gaps_by_area(catalogue, mine):
        found = []
        for entry, update, shown in missing:
            found.append(
                shown | {
                    "need": entry.need,
                    "when": update.at.astimezone(zone).strftime("%-d %b %Y") if update else "",
                    "help": await helpers(store, reference, viewer, entry, country.code,
                                          everyone),
                }
            )  # fmt: skip
        areas.append({"name": area.name, "gaps": found})
    tally = counts(mine.values(), catalogue.scored)
    requests = await assistance(store, viewer, country.code, zone)
    level = most_restrictive([NOTES, *viewer.shown])
    return {
        "committee": committee,
        "country": f"{country.name} ({country.code})",
        "code": country.code,
        "catalogue": catalogue.label,
        "areas": areas,
        "gap_count": sum(len(a["gaps"]) for a in areas),
        "met": tally["met"],
        "applicable": tally["applicable"],
        "standard_met": tally["standard_met"],
        "standards": tally["standards"],
        "standing": standing(tally),
        "requests": requests,
        "tlp": level,
        "label": label(level),
        "generated": now.astimezone(zone).strftime("%-d %b %Y %H:%M %Z"),
    }
