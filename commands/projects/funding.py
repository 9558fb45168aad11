"""The money behind the plan (section 9: funding for what countries cannot pay for).

A project's funding is a set of lines — an amount in a currency from a funder, pledged,
committed or disbursed (`!project fund`) — entered by its lead, the chair, or the Steering
member of the funding organisation. The funders the committee may approach are kept with what
they fund (`!funder add … interests=<areas or items>`). A need is unfunded for a country when
the country has not met the item and no project covering that country (or the region) has
committed or disbursed money for it: `!unfunded [area]`, and the annex for proposals
(`rcc-bot report --profile funding`): item × country × the plan's partners × the funders whose
interests match.

Unfunded needs are built from status (shared as GREEN), the catalogue and the funders' list:
the annex carries GREEN and may go to the funders themselves. Whether a need is funded is read
from every project, whatever its label: the annex says only that some project funds it.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from commands.audience import Viewer
from commands.context import Context
from commands.digest.data import NOTES
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
from commands.i18n import _
from commands.reference import Area, Reference
from commands.tlp import carried, label, present
from commands.types import choice, typed_id
from commands.values import ShortId
from storage.funding import SECURED, STATES, FundingStore
from storage.lists import unpack
from storage.projects import ACTIVE, REGIONAL
from storage.stores import Stores

router = Router("funding", templates=Path(__file__).parent / "templates")

CURRENCY = re.compile(r"^[A-Z]{3}$")
MOST = Decimal("100000000000000")


def amount(text: str, _env: ParseEnv) -> Decimal:
    """`250000`, `250,000` or `250000.50`: an amount of money above zero."""
    try:
        value = Decimal(text.strip().replace(",", "").replace("_", ""))
    except InvalidOperation:
        value = Decimal(0)
    if not value.is_finite() or not Decimal(0) < value < MOST:
        raise ArgumentError(_("{text!r} is not an amount like 250000 or 250,000.50").format(
            text=text))  # fmt: skip
    return value.quantize(Decimal("0.01"))


def currency(text: str, _env: ParseEnv) -> str:
    code = text.strip().upper()
    if not CURRENCY.match(code):
        raise ArgumentError(_("{text!r} is not a currency code like USD, EUR or XCD").format(
            text=text))  # fmt: skip
    return code


def funder_name(text: str, _env: ParseEnv) -> str:
    name = " ".join(text.split())
    if not name or len(name) > 200:
        raise ArgumentError(_("name the funder (up to 200 characters)"))
    return name


def interests(text: str, env: ParseEnv) -> list[str]:
    """Area IDs or item IDs, separated by commas."""
    catalogue = env.reference.catalogue
    areas = {a.id for a in catalogue.areas}
    found = []
    for part in (p.strip().casefold() for p in text.split(",") if p.strip()):
        if part not in areas and catalogue.item(part) is None:
            raise ArgumentError(
                _("{text!r} is neither an area ({areas}) nor an item").format(
                    text=part, areas=", ".join(sorted(areas))
                )
            )
        found.append(part)
    if not found:
        raise ArgumentError(_("name the areas or items it funds, separated by commas"))
    return list(dict.fromkeys(found))


@router.command(
    "project fund",
    summary="a line of a project's funding: amount, currency, pledged|committed|disbursed, funder",
    roles=CONTRIBUTORS | {Role.STEERING},
    params=[
        Pos("id", typed_id(ShortId.PR), "PR-n"),
        Pos("amount", amount, "<amount>"),
        Pos("currency", currency, "USD"),
        Pos("state", choice(*STATES), "|".join(STATES)),
        Opt("funder", funder_name, "name", required=True, words=8),
    ],
    example='!project fund PR-2 250000 EUR committed funder="EU/EEAS"',
    details="By the project's lead, whoever registered it, the chair, or the Steering member of "
    "the funder. A later line from the same funder replaces its earlier one (kept as history). "
    "Committed and disbursed money funds the project's items in its countries: !unfunded no "
    "longer lists them.",
)
async def project_fund(
    ctx: Context, id: int, amount: Decimal, currency: str, state: str, funder: str
) -> str:
    from commands.projects import _check_lead, _same, sees  # this family's first module

    project = await ctx.store.projects.get(id)
    name = ShortId.PR.of(id)
    present(ctx, project, name)
    assert project is not None
    steering = await ctx.store.roster.find(ctx.sender, Role.STEERING)
    if not (steering is not None and _same(steering.agency, funder)):
        try:
            await _check_lead(ctx, project)
        except Refused:
            raise Refused(
                _("{id}'s funding is entered by its lead, the chair, or the funder's Steering "
                  "member").format(id=name)
            ) from None  # fmt: skip
    sees(ctx.viewer, project)  # its title is in the answer: the answer carries its label
    await ctx.store.of(FundingStore).add(
        project=project.number, funder=funder, amount=amount, currency=currency, state=state,
        author=ctx.sender, event_id=ctx.event_id, now=ctx.now,
    )  # fmt: skip
    ctx.audit_detail = f"{name} funding {state} {currency} {amount} {funder}"
    return _("✅ {id} “{title}”: {amount} {currency} {state} by {funder}. [{label}]").format(
        id=name, title=project.title, amount=f"{amount:,.2f}", currency=currency, state=state,
        funder=funder, label=label(project.tlp),
    )  # fmt: skip


@router.command(
    "funder add",
    summary="a funder the committee may approach, and the areas or items it funds",
    roles=frozenset({Role.CHAIR, Role.STEERING}),
    params=[Opt("interests", interests, "area|item,…", required=True), Text("name", "name")],
    example="!funder add interests=legal,capacity EU Cyber Resilience Fund",
    details="Again with the same name, it replaces the funder's interests. !unfunded and the "
    "funding annex name, for each unfunded need, the funders whose interests match.",
)
async def funder_add(ctx: Context, interests: list[str], name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise CommandError(_("name the funder (up to 200 characters)"))
    _row, new = await ctx.store.of(FundingStore).set_funder(
        name=name, interests=interests, author=ctx.sender, now=ctx.now
    )
    ctx.audit_detail = f"funder {'added' if new else 'updated'}: {name}"
    words = _("✅ Funder {name} added: {interests}.") if new else _(
        "✅ Funder {name} updated: {interests}.")  # fmt: skip
    return words.format(name=name, interests=", ".join(interests))


def area_of(text: str, env: ParseEnv) -> Area:
    key = text.strip().casefold()
    for found in env.reference.catalogue.areas:
        if found.id == key:
            return found
    raise ArgumentError(
        _("{text!r} is not an area: {areas}").format(
            text=text, areas=", ".join(a.id for a in env.reference.catalogue.areas)
        )
    )


@router.command(
    "unfunded",
    summary="needs no project funds yet: by item, the countries, the plan's partners and the "
    "funders whose interests match",
    roles=READERS,
    params=[Pos("area", area_of, "area", optional=True)],
    example="!unfunded legal",
    details="A need is an item a country has not met (nor marked n/a) that no project covering "
    "that country, or the region, has committed or disbursed money for. Offline, the annex for "
    "proposals: rcc-bot report --profile funding --out annex.xlsx (or .pdf).",
)
async def unfunded(ctx: Context, area: Area | None) -> View:
    rows = await unfunded_needs(ctx.store, ctx.env.reference, ctx.viewer, area)
    return View("funding/unfunded", {"rows": rows, "area": area.id if area else ""} | carried(ctx))


async def unfunded_needs(
    store: Stores, reference: Reference, viewer: Viewer, area: Area | None = None
) -> list[dict[str, Any]]:
    """Each item with unfunded needs: the countries needing it, the plan's partners for it,
    the funders whose interests name the item or its area. Countries are those the matrix
    lists (an NCPOC on the roster, or something reported), observers aside."""
    from commands.projects import partners_of  # this family's first module

    viewer.sees(NOTES)
    catalogue = reference.catalogue
    latest = await store.status.latest()
    state = {(u.country, u.item_id): u.state for u in latest}
    ncpocs = {e.country for e in await store.roster.ncpocs()}
    scored = {c.code for c in reference.countries.scored()}
    countries = sorted(scored & (ncpocs | {u.country for u in latest}))
    projects = [p for p in await store.projects.find() if p.status in (*ACTIVE, "completed")]
    lines = await store.of(FundingStore).current([p.number for p in projects])
    funded: set[tuple[str, str]] = set()
    for p in projects:
        if any(f.state in SECURED for f in lines.get(p.number, [])):
            funded |= {(c, i) for c in unpack(p.countries) for i in unpack(p.items)}
    funders = await store.of(FundingStore).funders()
    rows = []
    for item in catalogue.scored:
        if area is not None and item.area != area.id:
            continue
        if (REGIONAL, item.id) in funded:
            continue
        needing = [
            c for c in countries
            if state.get((c, item.id)) not in ("met", "n/a") and (c, item.id) not in funded
        ]  # fmt: skip
        if not needing:
            continue
        rows.append({
            "item": item.id, "name": item.name, "area": item.area, "need": item.need,
            "countries": needing, "partners": partners_of(item, catalogue),
            "funders": [f.name for f in funders
                        if {item.id, item.area} & set(unpack(f.interests))],
        })  # fmt: skip
    return rows


def annex_rows(rows: list[dict[str, Any]], reference: Reference) -> list[list[str]]:
    """The annex's sheet: one line per item and country, with the partners and funders."""
    head = ["Item", "Name", "Area", "Country", "Code", "Partners named by the plan",
            "Funders whose interests match"]  # fmt: skip
    return [head] + [
        [r["item"], r["name"], r["area"], reference.countries.name_of(c), c,
         "; ".join(r["partners"]), "; ".join(r["funders"])]
        for r in rows for c in r["countries"]
    ]  # fmt: skip
