"""`!gaps`: the gap analysis the Action Plan asks for, per country or region-wide."""

from __future__ import annotations

from commands.common import own_country
from commands.context import Context
from commands.framework import (
    READERS,
    Pos,
    Router,
    View,
)
from commands.reference import Country
from commands.scorecard import SYMBOLS, UNKNOWN, counts, matrix
from commands.types import country

router = Router("gaps")


@router.command(
    "gaps",
    summary="items not at their minimum standard; without a country, the region-wide matrix",
    roles=READERS,
    params=[Pos("country", country, "country", optional=True, words=5)],
    example="!gaps TT",
    details="The matrix shows one symbol per item, grouped by priority area, and the number "
    "of items each country has at minimum standard. NCPOCs: `!gaps` alone shows the region; "
    "name your country for its list.",
)
async def gaps(ctx: Context, country: Country | None) -> View:
    if country is None:
        return View("status/matrix", matrix(ctx, await ctx.store.status.latest()))
    latest = {u.item_id: u for u in await ctx.store.status.latest(country.code)}
    catalogue = ctx.env.reference.catalogue
    areas = []
    for area in catalogue.areas:
        missing = []
        for entry in catalogue.scored_in(area.id):
            update = latest.get(entry.id)
            current = update.state if update else UNKNOWN
            if current in ("met", "n/a"):
                continue
            missing.append(
                {
                    "id": entry.id,
                    "name": entry.name,
                    "standard": entry.standard,
                    "status": entry.status,
                    "state": current,
                    "symbol": SYMBOLS[current],
                }
            )
        if missing:
            areas.append({"name": area.name, "items": missing})
    tally = counts(latest.values(), catalogue.scored)
    own = own_country(ctx)
    return View(
        "status/gaps",
        {
            "country": f"{country.name} ({country.code})",
            "areas": areas,
            "met": tally["met"],
            "applicable": tally["applicable"],
            "mine": own is not None and own.code == country.code,
            "catalogue": catalogue.label,
        },
    )
