"""`!resource`: national resources and expertise the region can call on."""

from __future__ import annotations

from pathlib import Path

from commands.audience import heard_by, hearers
from commands.common import acting_country, own_country
from commands.context import Context
from commands.corrections import check_label, check_live, corrected, withdraw
from commands.framework import (
    CONTRIBUTORS,
    READERS,
    CommandError,
    Opt,
    Pos,
    Router,
    Text,
    View,
)
from commands.i18n import N_, _
from commands.reference import Country, Item
from commands.status import item as item_of
from commands.tlp import check_postable, label, listing, present, tlp
from commands.types import choice, country, typed_id
from commands.values import ShortId
from storage.resources import Resource

router = Router(
    "resources",
    templates=Path(__file__).parent / "templates",
    topic=N_("national resources and expertise to share"),
)

KINDS = ("expertise", "tool", "lab", "training")
MAX_TEXT = 2000


@router.command(
    "resource add",
    summary="record a national resource: expertise, a tool, a lab or training",
    roles=CONTRIBUTORS,
    params=[
        Opt("kind", choice(*KINDS), required=True),
        Opt("item", item_of, "<item>"),
        Opt("country", country, "XX"),
        Opt("tlp", tlp),
        Text("description", "description"),
    ],
    example="!resource add kind=lab item=technical.forensics Digital forensics lab at the police "
    "HQ, can image phones",
    details="An NCPOC records resources of their own country; the chair may name any country "
    "or none (a regional resource). TLP:GREEN unless tlp= says otherwise. item= links it to "
    "the plan's item it helps with: !help-with and requests for assistance on that item find "
    "it.",
)
async def resource_add(
    ctx: Context, kind: str, item: Item | None, country: Country | None, tlp: str | None,
    description: str,
) -> str:  # fmt: skip
    if len(description) > MAX_TEXT:
        raise CommandError(
            _("the description is too long (at most {MAX_TEXT} characters)").format(
                MAX_TEXT=MAX_TEXT
            )
        )
    level = tlp or "green"
    check_postable(level, ctx)
    if country is not None or own_country(ctx) is not None:
        country = acting_country(ctx, country)
    resource = await ctx.store.resources.add(
        kind=kind,
        country=country.code if country else None,
        description=description,
        tlp=level,
        author=ctx.sender,
        room_id=ctx.room_id,
        event_id=ctx.event_id,
        now=ctx.now,
        said_to=hearers(ctx.viewer.audience),
        item=item.id if item else None,
    )
    ctx.audit_detail = f"{ShortId.RS.of(resource.number)} {kind} {label(level)}"
    where = f" for {country.name}" if country else " (regional)"
    on = f" on {item.id}" if item else ""
    return f"✅ {ShortId.RS.of(resource.number)} recorded{where}: {kind}{on} [{label(level)}]."


async def _live(ctx: Context, number: int) -> Resource:
    resource = await ctx.store.resources.get(number)
    present(ctx, resource, ShortId.RS.of(number))
    assert resource is not None
    check_live(ctx, resource, ShortId.RS.of(number), resource.author)
    return resource


@router.command(
    "resource edit",
    summary="correct a resource's description, kind or label (kept as history)",
    roles=CONTRIBUTORS,
    params=[
        Pos("id", typed_id(ShortId.RS), "<RS-n>"),
        Opt("kind", choice(*KINDS)),
        Opt("item", item_of, "<item>"),
        Opt("tlp", tlp),
        Text("description", "new description", required=False),
    ],
    example="!resource edit RS-3 kind=lab Forensics lab at police HQ, phones and laptops",
    details="By its author or the chair, where it may be posted. Each change is kept with its "
    "value before. The label may only go up, unless the original poster lowers it.",
)
async def resource_edit(
    ctx: Context, id: int, kind: str | None, item: Item | None, tlp: str | None,
    description: str,
) -> str:  # fmt: skip
    resource = await _live(ctx, id)
    if len(description) > MAX_TEXT:
        raise CommandError(
            _("the description is too long (at most {MAX_TEXT} characters)").format(
                MAX_TEXT=MAX_TEXT
            )
        )
    if tlp is not None:
        check_label(ctx, resource.author, resource.tlp, tlp, ShortId.RS.of(id))
    changes = {"description": description or None, "kind": kind, "tlp": tlp,
               "item": item.id if item else None}  # fmt: skip
    return await corrected(ctx, "resource", ShortId.RS.of(id), id, resource, changes)


@router.command(
    "resource withdraw",
    summary="withdraw a resource: it leaves listings, searches and digests (kept as history)",
    roles=CONTRIBUTORS,
    params=[Pos("id", typed_id(ShortId.RS), "<RS-n>"), Text("reason", "reason")],
    example="!resource withdraw RS-3 the lab closed in October",
)
async def resource_withdraw(ctx: Context, id: int, reason: str) -> str:
    resource = await _live(ctx, id)
    return await withdraw(ctx, "resource", ShortId.RS.of(id), id, resource, reason)


@router.command(
    "resource list",
    summary="resources, by kind and country",
    roles=READERS,
    params=[
        Opt("kind", choice(*KINDS)),
        Opt("item", item_of, "<item>"),
        Opt("country", country, "XX"),
    ],
    example="!resource list kind=lab",
)
async def resource_list(
    ctx: Context, kind: str | None, item: Item | None, country: Country | None
) -> View:
    found = await ctx.store.resources.find(
        in_full=ctx.viewer.audience.in_full(),
        kind=kind,
        country=country.code if country else None,
        item=item.id if item else None,
    )
    return await _listing(ctx, found, None)


@router.command(
    "resource search",
    summary="find resources by words in their description",
    roles=READERS,
    params=[Text("words", "words")],
    example="!resource search forensics phones",
)
async def resource_search(ctx: Context, words: str) -> View:
    found = await ctx.store.resources.search(words, in_full=ctx.viewer.audience.in_full())
    return await _listing(ctx, found, words)


async def _listing(ctx: Context, found: list[Resource], searched: str | None) -> View:
    """Resources shown in full; the others only counted, whatever was asked."""
    hidden = await ctx.store.resources.withheld(in_full=ctx.viewer.audience.in_full())
    rows = [_row(ctx, r) for r in found]
    return listing(ctx, "resources/list", rows, hidden=hidden, searched=searched)


def _row(ctx: Context, resource: Resource) -> dict:
    shown = ctx.viewer.in_full(resource.tlp, resource.origin_room, heard_by(resource))
    data = {
        "id": ShortId.RS.of(resource.number),
        "tlp": resource.tlp,
        "label": label(resource.tlp),
        "shown": shown,
    }
    if shown:
        data.update(
            kind=resource.kind,
            item=resource.item,
            description=resource.description,
            country=resource.country or "regional",
            author=resource.author,
        )
    return data
