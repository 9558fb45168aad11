"""`!standards`, `!status`, `!status set|note|submit`: countries against the minimum standards."""

from __future__ import annotations

import argparse
import asyncio
import functools
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from commands import i18n
from commands.audience import Show
from commands.common import acting_country, label, own_country
from commands.context import Context
from commands.deadlines import open_period
from commands.digest.data import NOTES
from commands.framework import (
    CONTRIBUTORS,
    READERS,
    ArgumentError,
    CommandError,
    Input,
    Labelled,
    Offline,
    Opt,
    ParseEnv,
    Pos,
    Role,
    Router,
    Text,
    View,
    file_in_reply,
    one_of,
)
from commands.i18n import CATALOGUE, N_, _, pgettext
from commands.motions.votes import motion_words
from commands.reference import Area, Country, Item
from commands.scorecard import (
    LADDER,
    LADDER_MEETS,
    STATES,
    StatusConfig,
    counts,
    scorecard,
    standing,
    summary_row,
    tally_of,
)
from commands.tlp import carried
from commands.types import choice, country, plain, word
from commands.values import Ref, RefKind, ShortId
from storage.bills import BillStage, BillStore
from storage.endorsements import EndorsementStore

router = Router(
    "status",
    templates=Path(__file__).parent / "templates",
    topic=N_("where each country stands against the plan"),
)

STATE_ALIASES = {
    "not-started": "not-started",
    "notstarted": "not-started",
    "not_started": "not-started",
    "todo": "not-started",
    "in-progress": "in-progress",
    "inprogress": "in-progress",
    "in_progress": "in-progress",
    "progress": "in-progress",
    "ongoing": "in-progress",
    "met": "met",
    "done": "met",
    "achieved": "met",
    "n/a": "n/a",
    "na": "n/a",
    "n.a.": "n/a",
    "not-applicable": "n/a",
}
MAX_NOTE = 2000


ITEM_WORDS = 16  # the longest item name a person may type in full


def item(text: str, env: ParseEnv) -> Item:
    """A catalogue item by its ID, its number, or its name in any of the bot's languages
    (the whole name or a run of its words: `National Cyber Security Strategy`, `cyber
    security strategy`, `stratégie`); an ambiguous name lists the candidates with their
    numbers, an unknown one the closest IDs."""
    catalogue = env.reference.catalogue
    found = catalogue.item(text)
    if found is None and text.strip().isdigit():
        found = catalogue.numbered(int(text))
    if found is not None:
        return found
    first, _space, rest = text.strip().partition(" ")
    if rest and (catalogue.item(first) or first.isdigit()):
        # An ID or a number, then other words: the item is the first word alone (a shorter
        # reading is tried next), not a name that starts with an ID.
        raise ArgumentError(_("unknown item {text!r}{hint}").format(text=text, hint=""))
    candidates = catalogue.named(text, names_of)
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        choices = "; ".join(
            f"{catalogue.number_of(i)}. {i.id} ({pgettext(CATALOGUE, i.name)})"
            for i in candidates[:8]
        )
        raise ArgumentError(
            _("{text!r} could be several items: {choices}. Type its number or its ID in its "
              "place.").format(text=text, choices=choices),
            specific=True,
        )  # fmt: skip
    close = catalogue.suggest(text)
    hint = f"; did you mean {', '.join(close)}?" if close else "; see !standards for the IDs"
    # Only a one-word reading says "unknown": of the longer ones tried first, it is the one
    # a person recognises as what they typed.
    raise ArgumentError(
        _("unknown item {text!r}{hint}").format(text=text, hint=hint), specific=" " not in text
    )


def names_of(item: Item) -> tuple[str, ...]:
    """An item's name in each language the bot speaks."""
    return _names(item.name, i18n.languages())


@functools.lru_cache(maxsize=256)
def _names(name: str, languages: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(i18n.translations(lang).pgettext(CATALOGUE, name) for lang in languages)


def _state(text: str, _env: ParseEnv) -> str:
    """A state as people type it: `not started`, `In Progress`, `done`, or a prefix only one
    state starts with (`in`)."""
    key = "-".join(plain(text).strip().casefold().replace("_", " ").split())
    found = STATE_ALIASES.get(key)
    if found is None and len(key) >= 2:
        starting = {v for k, v in STATE_ALIASES.items() if k.startswith(key)}
        found = starting.pop() if len(starting) == 1 else None
    if found is None:
        raise ArgumentError(
            _("{text!r} is not a state; use one of: {choices}").format(
                text=text, choices=", ".join(STATES)
            )
        )
    return found


state = Labelled(_state, one_of(STATES))


def area(text: str, env: ParseEnv) -> Area:
    found = env.reference.catalogue.area(text)
    if found is None:
        matches = [a for a in env.reference.catalogue.areas if a.id.startswith(text.casefold())]
        if len(matches) == 1:
            return matches[0]
        areas = ", ".join(a.id for a in env.reference.catalogue.areas)
        raise ArgumentError(
            _("unknown area {text!r}; the areas are: {areas}").format(text=text, areas=areas)
        )
    return found


def _note(text: str) -> str:
    if len(text) > MAX_NOTE:
        raise CommandError(
            _("the note is too long ({size} characters; at most {MAX_NOTE})").format(
                size=len(text), MAX_NOTE=MAX_NOTE
            )
        )
    return text


COUNTRY_OPT = Opt("country", country, "XX")
SOURCES = ("desk-review", "ncpoc")
MAX_URL = 2000


def evidence_url(text: str, _env: ParseEnv) -> str:
    """A web link to the evidence behind a state (a gazette, a published strategy)."""
    url = text.strip()
    if url.casefold().startswith("www."):  # as people write links: the web's is https
        url = "https://" + url
    parsed = urlsplit(url)
    if parsed.scheme not in ("https", "http") or not parsed.netloc or len(url) > MAX_URL:
        raise ArgumentError(
            _("{text!r} is not a web link like https://gazette.gov.jm/act-12").format(text=text)
        )
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise ArgumentError(_("a link has no spaces or control characters"))
    return url


@router.command(
    "standards",
    summary="the catalogue in force: priority areas, items, their minimum standard, status "
    "and scope; an area in full with the plan's needs, solutions and partners",
    roles=READERS,
    params=[Pos("area", area, "area", optional=True)],
    example="!standards legal",
)
async def standards(ctx: Context, area: Area | None) -> View:
    catalogue = ctx.env.reference.catalogue
    areas = [area] if area else list(catalogue.areas)
    pending = [
        m
        for m in await ctx.store.motions.pending()
        if area is None or m.target.startswith(area.id + ".")
    ]
    shown = [i for a in areas for i in catalogue.items_in(a.id)]
    return View(
        "status/standards",
        {
            "areas": [
                {"id": a.id, "name": a.name, "items": catalogue.items_in(a.id)} for a in areas
            ],
            "endorsed": await endorsements(ctx, shown),
            "full": area is not None,
            "catalogue": catalogue.label,
            "pending": [(ShortId.MO.of(m.number), motion_words(m), m.state) for m in pending],
        },
    )


# A bill's ladder (Action Plan, Table 4: legislation enacted; row 2 names a champion per
# bill): the last two rungs meet the item, the others are progress (`scorecard.LADDER`).


@router.command(
    "bill",
    summary="where a legal item's bill stands in your country: drafted, cabinet, tabled, "
    "passed, in force, Budapest Convention accession",
    roles=CONTRIBUTORS,
    params=[
        Pos("item", item, "<item>", words=ITEM_WORDS),
        Pos("stage", choice(*LADDER)),
        Opt("champion", word, "<name|@user>", words=8),
        Opt("evidence", evidence_url, "https://…"),
        COUNTRY_OPT,
    ],
    example="!bill legal.cybercrime tabled champion=Hon. A. Minister evidence=www.gov.jm/bill",
    details="For the legal area's items. Each step is kept (the ladder climbed) and is also a "
    "status update: in force and accession to the Budapest Convention meet the item, the "
    "earlier stages are in progress. The champion, once named, stays until another is.",
)
async def bill(
    ctx: Context, item: Item, stage: str, champion: str | None, evidence: str | None,
    country: Country | None,
) -> str:  # fmt: skip
    chosen = acting_country(ctx, country)
    _scored_per_country(item)
    if item.area != "legal":
        raise CommandError(
            _("{id} is not a legal item: record its state with !status set").format(id=item.id)
        )
    await ctx.store.of(BillStore).step(
        country=chosen.code, item_id=item.id, stage=stage,
        champion=" ".join(champion.split())[:255] if champion else None, evidence=evidence,
        author=ctx.sender, event_id=ctx.event_id, now=ctx.now,
    )  # fmt: skip
    state = "met" if stage in LADDER_MEETS else "in-progress"
    await ctx.store.status.record(
        country=chosen.code, item_id=item.id, state=state, note=f"bill: {stage}",
        author=ctx.sender, event_id=ctx.event_id, now=ctx.now,
        version=ctx.env.reference.catalogue.version, evidence=evidence,
    )  # fmt: skip
    ctx.audit_detail = f"{chosen.code} {item.id} bill {stage}"
    return _("✅ {country}: the bill for {id} is {stage} ({state}).").format(
        country=label(chosen), id=item.id, stage=stage, state=state
    )


def bills(history: list[BillStage]) -> list[dict[str, str]]:
    """Each legal item's latest stage, with the last champion and evidence named for it (a
    champion named once stays until another is)."""
    found: dict[str, dict[str, str]] = {}
    for step in history:
        before = found.get(step.item_id, {"champion": "", "evidence": ""})
        found[step.item_id] = {
            "item": step.item_id, "stage": step.stage,
            "champion": step.champion or before["champion"],
            "evidence": step.evidence or before["evidence"],
        }  # fmt: skip
    return list(found.values())


@router.command(
    "endorse",
    summary="say that your country endorsed nationally a standard the region adopted",
    roles=CONTRIBUTORS,
    params=[
        Pos("item", item, "<item>", words=ITEM_WORDS),
        Opt("evidence", evidence_url, "https://…"),
        COUNTRY_OPT,
    ],
    example="!endorse legal.cybercrime evidence=https://gazette.gov.jm/cabinet-2027-02",
    details="Only for an item whose minimum standard the committee adopted by vote; its "
    "very words are endorsed, so an amended standard is endorsed anew. !standards shows "
    '"adopted regionally, endorsed by N of M member states".',
)
async def endorse(ctx: Context, item: Item, evidence: str | None, country: Country | None) -> str:
    chosen = acting_country(ctx, country)
    _scored_per_country(item)
    if item.status != "adopted" or not item.standard:
        raise CommandError(
            _(
                "{id} has no standard the committee adopted yet: a country endorses what "
                "the region adopted (!motion propose)"
            ).format(id=item.id)
        )
    catalogue = ctx.env.reference.catalogue
    _row, new = await ctx.store.of(EndorsementStore).endorse(
        country=chosen.code, item_id=item.id, version=catalogue.version,
        standard=item.standard, evidence=evidence, author=ctx.sender, event_id=ctx.event_id,
        now=ctx.now,
    )  # fmt: skip
    ctx.audit_detail = f"{chosen.code} endorsed {item.id}" + ("" if new else " (evidence)")
    counted = (await endorsements(ctx, [item])).get(item.id, {"count": 0, "of": 0})
    return _(
        "✅ {country} endorsed the standard of {id} (“{standard}”); adopted regionally, "
        "endorsed by {n} of {of} member states."
    ).format(
        country=label(chosen),
        id=item.id,
        standard=pgettext(CATALOGUE, item.standard),
        n=counted["count"],
        of=counted["of"],
    )


async def endorsements(ctx: Context, items: list[Item]) -> dict[str, dict[str, Any]]:
    """For each adopted item: how many member states endorsed its standard, of how many,
    and which."""
    adopted = {i.id: i.standard for i in items if i.status == "adopted" and i.standard}
    found = await ctx.store.of(EndorsementStore).of_items(adopted)
    members = {c.code for c in ctx.env.reference.countries if c.membership == "member"}
    result = {}
    for item_id in adopted:
        codes = [e.country for e in found.get(item_id, []) if e.country in members]
        result[item_id] = {"count": len(codes), "of": len(members), "countries": codes}
    return result


@router.command(
    "status",
    summary="a country's scorecard: each item's state, note, who and when",
    roles=READERS,
    params=[Pos("country", country, "country", optional=True, words=5)],
    example="!status JM",
    details="An NCPOC sees their own country without naming it; without a country the "
    "chair and steering members get the region at a glance.",
)
async def status(ctx: Context, country: Country | None) -> View:
    chosen = country or own_country(ctx)
    if chosen is None:
        return await _region(ctx)
    latest = await ctx.store.status.latest(chosen.code)
    period = await open_period(ctx)
    reports = await ctx.store.status.reports(
        start=period.start, end=period.end, country=chosen.code
    )
    card = scorecard(ctx, chosen, latest)
    card["bills"] = bills(await ctx.store.of(BillStore).history(chosen.code))
    card["period"] = period.label
    card["report"] = reports[-1] if reports else None
    # The whole story: the latest narrative update and, when none is filed for this period,
    # the latest report before it. Shared as status data is, where GREEN may be seen in full.
    story = ctx.viewer.sees(NOTES) == Show.FULL
    notes = await ctx.store.status.notes(country=chosen.code, limit=1) if story else []
    card["narrative"] = notes[0] if notes else None
    earlier = None if reports or not story else await ctx.store.status.last_report(chosen.code)
    card["earlier_report"] = earlier
    return View("status/scorecard", card | carried(ctx))


async def _region(ctx: Context) -> View:
    latest = await ctx.store.status.latest()
    period = await open_period(ctx)
    reports = await ctx.store.status.reports(start=period.start, end=period.end)
    reported = {r.country for r in reports}
    by_country: dict[str, list] = {}
    for update in latest:
        by_country.setdefault(update.country, []).append(update)
    rows = [
        summary_row(ctx, c, by_country.get(c.code, []), c.code in reported)
        for c in ctx.env.reference.countries.scored()
    ]
    ctx.viewer.sees(NOTES)  # status is shared under the committee's GREEN
    return View("status/region", {"rows": rows, "period": period.label} | carried(ctx))


@router.command(
    "status set",
    summary="record the state of one item for your country (the chair: country=XX)",
    roles=CONTRIBUTORS,
    params=[
        Pos("item", item, "<item>", words=ITEM_WORDS),
        Pos("state", state, words=2),
        COUNTRY_OPT,
        Opt("evidence", evidence_url, "https://…"),
        Opt("source", choice(*SOURCES), "|".join(SOURCES)),
        Text("note", "note", required=False),
    ],
    example="!status set legal.strategy in-progress Draft with Cabinet since March",
    aliases=["update"],
    details="evidence= keeps a link with the update; a file sent as a reply to the bot's "
    "confirmation is kept with it too. source= says where the assessment comes from: the "
    "desk review of the studies (section 6) or the NCPOC (the default for NCPOCs).",
)
async def status_set(
    ctx: Context,
    item: Item,
    state: str,
    country: Country | None,
    evidence: str | None,
    source: str | None,
    note: str,
) -> None:
    chosen = acting_country(ctx, country)
    _scored_per_country(item)
    before = await ctx.store.status.states(chosen.code)
    previous = before.get(item.id)
    update_id = await ctx.store.status.record(
        country=chosen.code,
        item_id=item.id,
        state=state,
        note=_note(note),
        author=ctx.sender,
        event_id=ctx.event_id,
        now=ctx.now,
        version=ctx.env.reference.catalogue.version,
        evidence=evidence,
        source=source or ("ncpoc" if own_country(ctx) else None),
    )
    ctx.audit_detail = f"{chosen.code} {item.id} -> {state}"
    catalogue = ctx.env.reference.catalogue
    states = before | {item.id: state}
    was = _(" (was {state})").format(state=previous) if previous else ""
    kept = _(" Evidence linked.") if evidence else ""
    await ctx.reply(
        _(
            "✅ {label}: {id} is now {state}{was}. {standing} (catalogue version "
            "{version}).{kept} Reply to this message with a file to keep it as evidence."
        ).format(
            label=label(chosen), id=f"{pgettext(CATALOGUE, item.name)} ({item.id})",
            state=state, was=was, standing=standing(tally_of(states, catalogue.scored)),
            version=catalogue.version, kept=kept,
        ),
        ref=Ref(RefKind.STATUS, update_id),
    )  # fmt: skip


def _scored_per_country(item: Item) -> None:
    """Refuse an item a country's status cannot be recorded against."""
    if item.status == "retired":
        raise CommandError(
            _("{id} was retired by the committee; see !decisions").format(id=item.id)
        )
    if item.scope == "regional":
        raise CommandError(
            _(
                "{id} is a regional deliverable, tracked once for the region: record its "
                "progress as a project (!project add … items={id})"
            ).format(id=item.id)
        )


@router.listener("status evidence", accepts=file_in_reply)
async def evidence_file(ctx: Context, said: Input) -> str | None:
    """A file sent in reply to the confirmation of a status update: kept with the update.

    Only someone who may change that country's status may attach to it; anyone else's file
    is left alone, as any other chatter."""
    tag = Ref.parse(await ctx.store.outbox.ref_of(said.reply_to or ""))
    if tag is None or tag.kind != RefKind.STATUS:
        return None
    update = await ctx.store.status.get(tag.key)
    if update is None or said.attachment is None:
        return None
    own = own_country(ctx)
    if not (ctx.has_role(Role.CHAIR) or (own is not None and own.code == update.country)):
        return None
    update.attachment = said.attachment
    ctx.audit_detail = f"{update.country} {update.item_id} evidence file"
    name = " ".join(said.body.split())[:100] or "the file"
    return _("📎 Kept “{name}” as evidence of {country} {item_id} {state}.").format(
        name=name, country=update.country, item_id=update.item_id, state=update.state
    )


UNDO_WITHIN = timedelta(days=1)


@router.command(
    "status undo",
    summary="take back your last status update (within a day); it is kept as history",
    roles=CONTRIBUTORS,
    params=[COUNTRY_OPT],
    example="!status undo",
    details="For an update typed against the wrong item or with the wrong state. The item "
    "shows its state before that update again; the update stays in the history, marked undone.",
)
async def status_undo(ctx: Context, country: Country | None) -> str:
    chosen = acting_country(ctx, country)
    update = await ctx.store.status.last_by(ctx.sender, chosen.code)
    if update is None:
        raise CommandError(
            _("you have no status update for {label} to undo").format(label=label(chosen))
        )
    if ctx.now - update.at > UNDO_WITHIN:
        raise CommandError(
            _(
                "your last update for {label} ({item_id} {state}) is more "
                "than a day old: set the right state with !status set instead"
            ).format(label=label(chosen), item_id=update.item_id, state=update.state)
        )
    await ctx.store.status.undo(update, now=ctx.now)
    await ctx.store.corrections.record(
        kind="status", number=update.id or 0, field="undone", before=update.state,
        after="", by=ctx.sender, event_id=ctx.event_id, now=ctx.now,
    )  # fmt: skip
    ctx.audit_detail = f"{chosen.code} {update.item_id} undo"
    now = {u.item_id: u for u in await ctx.store.status.latest(chosen.code)}.get(update.item_id)
    state = now.state if now else "not reported"
    return _("✅ Undone: {item_id} {state} for {label}. {item_id} is {state2} again.").format(
        item_id=update.item_id, state=update.state, label=label(chosen), state2=state
    )


@router.command(
    "status note",
    summary="a narrative update on your country's projects and activities",
    roles=CONTRIBUTORS,
    params=[COUNTRY_OPT, Text("text", "text")],
    example="!status note National CSIRT recruited two analysts; awareness week planned for May",
)
async def status_note(ctx: Context, country: Country | None, text: str) -> str:
    chosen = acting_country(ctx, country)
    await ctx.store.status.add_note(
        country=chosen.code,
        text=_note(text),
        author=ctx.sender,
        event_id=ctx.event_id,
        now=ctx.now,
    )
    ctx.audit_detail = f"{chosen.code} note"
    return _("✅ Noted for {label}; it will appear in the next digest.").format(
        label=label(chosen)
    )


@router.command(
    "status submit",
    summary="file your country's report for the open reporting period",
    roles=CONTRIBUTORS,
    params=[COUNTRY_OPT, Text("note", "note", required=False)],
    example="!status submit All items reviewed with the ministry",
)
async def status_submit(ctx: Context, country: Country | None, note: str) -> str:
    chosen = acting_country(ctx, country)
    period = await open_period(ctx)
    earlier = await ctx.store.status.reports(
        start=period.start, end=period.end, country=chosen.code
    )
    await ctx.store.status.submit(
        country=chosen.code,
        period=period.key,
        note=_note(note),
        author=ctx.sender,
        event_id=ctx.event_id,
        now=ctx.now,
    )
    ctx.audit_detail = f"{chosen.code} report {period.key}"
    latest = await ctx.store.status.latest(chosen.code)
    tally = counts(latest, ctx.env.reference.catalogue.scored)
    again = ""
    if earlier:
        first = earlier[0]
        filed = i18n.when(first.at, ctx.env.zone, "%-d %b")
        again = _(" (an update: {who} first filed on {day})").format(who=first.author, day=filed)
    return _("✅ {label}'s report for {label2} is filed{again}. {standing}.").format(
        label=label(chosen), label2=period.label, again=again, standing=standing(tally)
    )


router.section("status", StatusConfig)


def _import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--csv", required=True, type=Path, metavar="FILE", help="CSV file")
    parser.add_argument(
        "--dry-run", action="store_true", help="check the file and say what would be stored"
    )


@router.verb(
    "import-status",
    help="load a baseline of status from a CSV file (country,item,state[,note,evidence,source]) "
    "with the checks of !status set; nothing is stored if any row is bad",
    arguments=_import_arguments,
    writes=True,
)
async def import_status(offline: Offline, args: argparse.Namespace) -> int:
    from commands.status.imports import read, store_rows

    path: Path = args.csv
    text = await asyncio.to_thread(path.read_text, "utf-8-sig")  # an export may start with a BOM
    rows, problems = read(text, offline.env)
    if problems:
        for problem in problems:
            offline.error(f"{path}: {problem}")
        return offline.error(f"{len(problems)} bad row(s); nothing was stored")
    version = offline.env.reference.catalogue.version
    if args.dry_run:
        offline.say(f"{len(rows)} row(s) are good (catalogue version {version}); nothing stored")
        return 0
    async with offline.unit() as store:
        await store_rows(
            store, rows, author=f"import:{path.name}", now=offline.env.now(), version=version
        )
    offline.say(f"stored {len(rows)} status update(s) against catalogue version {version}")
    return 0
