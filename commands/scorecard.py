"""Turning the latest status updates into scorecards, summaries and the regional matrix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from pydantic import Field

from commands.context import Context
from commands.i18n import N_, _
from commands.reference import Country, Item
from commands.sections import Duration, Section
from storage.status import StatusUpdate

STATES = ("not-started", "in-progress", "met", "n/a")
UNKNOWN = "unreported"
SYMBOLS = {"met": "●", "in-progress": "◐", "not-started": "○", "n/a": "–", UNKNOWN: "·"}
LEGEND = N_("● met  ◐ in progress  ○ not started  – n/a  · not reported")


def counts(updates: Iterable[StatusUpdate], scored: Iterable[Item]) -> dict[str, int]:
    """How many of the scored items (the catalogue in force's) are in each state; items
    never reported count as unreported, updates on other items not at all.

    `met` and `applicable` are progress over every item; `standard_met` of `standards` is
    the only "at minimum standard" count: items with a standard (`Item.measured`), n/a
    aside. An item without a standard is a need, and meeting it is progress, not a
    standard met."""
    return tally_of({u.item_id: u.state for u in updates}, scored)


def tally_of(states: Mapping[str, str], scored: Iterable[Item]) -> dict[str, int]:
    """`counts` from each item's state by ID."""
    items = {i.id: i for i in scored}
    tally = dict.fromkeys((*STATES, UNKNOWN, "standard_met", "standards_na"), 0)
    seen = 0
    for item_id, state in states.items():
        item = items.get(item_id)
        if item is not None:
            tally[state] += 1
            seen += 1
            if item.measured and state in ("met", "n/a"):
                tally["standard_met" if state == "met" else "standards_na"] += 1
    total = len(items)
    tally[UNKNOWN] = total - seen
    tally["applicable"] = total - tally["n/a"]
    tally["standards"] = sum(1 for i in items.values() if i.measured) - tally.pop("standards_na")
    return tally


def standing(tally: dict[str, int]) -> str:
    """The one sentence every reply, listing and digest uses for a count against the
    standards, beside the progress over every item so the two never read as one."""
    if not tally["standards"]:
        measured = _("no applicable item has a minimum standard yet")
    else:
        measured = _("{met} of {standards} items with a minimum standard met").format(
            met=tally["standard_met"], standards=tally["standards"]
        )
    return _("{measured}; {met} of {applicable} items met in all").format(
        measured=measured, met=tally["met"], applicable=tally["applicable"]
    )


def scorecard(ctx: Context, country: Country, latest: list[StatusUpdate]) -> dict[str, Any]:
    """Per area, per item: state, note, who and when, with stale items flagged."""
    by_item = {u.item_id: u for u in latest}
    catalogue = ctx.env.reference.catalogue
    stale_before = ctx.now - ctx.config[StatusConfig].stale_after
    areas: list[dict[str, Any]] = []
    for area in catalogue.areas:
        rows: list[dict[str, Any]] = []
        for entry in catalogue.scored_in(area.id):
            update = by_item.get(entry.id)
            state = update.state if update else UNKNOWN
            rows.append(
                {
                    "id": entry.id,
                    "name": entry.name,
                    "state": state,
                    "symbol": SYMBOLS[state],
                    "note": _short(update.note) if update else "",
                    "author": update.author if update else "",
                    "when": update.at if update else None,
                    "stale": bool(update and update.at < stale_before),
                    "evidence": update.evidence if update else None,
                    "file": bool(update and update.attachment),
                    "source": update.source if update else None,
                }
            )
        areas.append({"name": area.name, "rows": rows})
    tally = counts(latest, catalogue.scored)
    return {
        "country": f"{country.name} ({country.code})",
        "areas": areas,
        "counts": tally,
        "standing": standing(tally),
        "stale": sum(1 for a in areas for r in a["rows"] if r["stale"]),
        "stale_after_days": ctx.config[StatusConfig].stale_after.days,
        "now": ctx.now,
        "legend": _(LEGEND),
        "catalogue": catalogue.label,
    }


def summary_row(
    ctx: Context, country: Country, latest: list[StatusUpdate], reported: bool
) -> dict[str, Any]:
    """One line of the regional overview."""
    tally = counts(latest, ctx.env.reference.catalogue.scored)
    last = max((u.at for u in latest), default=None)
    return {
        "code": country.code,
        "name": country.name,
        "met": tally["met"],
        "applicable": tally["applicable"],
        "standard_met": tally["standard_met"],
        "standards": tally["standards"],
        "unreported": tally[UNKNOWN],
        "last": last,
        "reported": reported,
        "now": ctx.now,
    }


def matrix(ctx: Context, latest: list[StatusUpdate]) -> dict[str, Any]:
    """Countries x items, one symbol per item, grouped by area, with the count met."""
    catalogue = ctx.env.reference.catalogue
    state = {(u.country, u.item_id): u.state for u in latest}
    by_country: dict[str, list[StatusUpdate]] = {}
    for update in latest:
        by_country.setdefault(update.country, []).append(update)
    rows = []
    for country in ctx.env.reference.countries.scored():
        cells = [
            "".join(
                SYMBOLS[state.get((country.code, i.id), UNKNOWN)]
                for i in catalogue.scored_in(a.id)
            )
            for a in catalogue.areas
        ]
        tally = counts(by_country.get(country.code, []), catalogue.scored)
        rows.append(
            {
                "code": country.code,
                "cells": cells,
                "met": tally["met"],
                "applicable": tally["applicable"],
                "standard_met": tally["standard_met"],
                "standards": tally["standards"],
            }
        )
    areas = [
        {"id": a.id, "name": a.name, "items": [i.id for i in catalogue.scored_in(a.id)]}
        for a in catalogue.areas
    ]
    return {"areas": areas, "rows": rows, "legend": _(LEGEND), "catalogue": catalogue.label}


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The legal ladder (`!bill`, Table 4 row 2): a bill's stages, in order; the last two meet it.
LADDER = ("drafted", "cabinet", "tabled", "passed", "in-force", "budapest")
LADDER_MEETS = ("in-force", "budapest")
RUNGS = {
    "drafted": N_("drafted"), "cabinet": N_("cabinet"), "tabled": N_("tabled"),
    "passed": N_("passed"), "in-force": N_("in force"), "budapest": N_("Budapest Convention"),
}  # fmt: skip


class StatusConfig(Section):
    stale_after: Duration = Field(
        timedelta(days=180), description='a duration such as "180d" or "26w"'
    )
