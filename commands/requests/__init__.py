"""Requests for assistance: a country asks, the region answers (Action Plan, Table 5: pooled
forensic resources and the 24/7 network of law-enforcement contacts for electronic evidence;
Table 2: trainers; the Communiqué: partners' support by each country's needs).

`!request` opens `RQ-n` for the requesting country and matches it at once — resources linked
to its item, countries that met the item, the plan's partners for it, projects under way —
and the matched countries' NCPOCs are asked, each in a DM that rings, in their language, shown
what their DM may show. A preservation request names the country asked (`to=XX`): its 24/7
law-enforcement contacts are asked by name at once and, until one of them acknowledges, again
every `preservation_answer_within` with that country's NCPOCs and the chair, as a broadcast's
chain does. Offers (`OF-n`) answer it; the requesting side accepts one, says when it was
delivered and closes it with its feedback. The job reminds before `due=` and tells the chair
of a request without an offer after `unanswered_after`; every round once, across restarts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field

from commands.audience import PRIVATE, Show, Viewer, heard_by, hearers, sealed, strictest
from commands.broadcast.acks import is_ack_reaction, is_ack_text
from commands.common import acting_country, own_country
from commands.context import Context, JobContext
from commands.deadlines import DueInput, resolve_due, when
from commands.deadlines import due as due_typed
from commands.digest.data import NOTES
from commands.directory import ranked, stand_in
from commands.framework import (
    CONTRIBUTORS,
    NATIONAL,
    READERS,
    ArgumentError,
    CommandError,
    Input,
    Opt,
    ParseEnv,
    Pos,
    Refused,
    Role,
    Router,
    Text,
    View,
)
from commands.i18n import N_, Deferred, _
from commands.incidents.alerts import direct
from commands.parsing import strip_reply_fallback
from commands.projects import helpers, resource_row
from commands.reference import Country, Item
from commands.sections import Duration, Section
from commands.status import item as item_of
from commands.tlp import carried, label, said, tlp
from commands.types import choice, country, typed_id
from commands.values import CHROME, Clearance, Ref, RefKind, Seal, ShortId
from storage.lists import pack, unpack
from storage.requests import OPEN, AssistanceRequest, RequestStore
from storage.stores import Stores

router = Router(
    "requests",
    templates=Path(__file__).parent / "templates",
    topic=N_("requests for assistance: a country asks, the region answers"),
)

JOB = "request"
KINDS = ("forensic", "preservation", "expertise", "training", "equipment", "partner")
# The kind of national resource that answers each kind of request, when it names no item.
RESOURCE_KINDS = {"forensic": "lab", "expertise": "expertise", "training": "training",
                  "equipment": "tool"}  # fmt: skip
REQUEST_ID = typed_id(ShortId.RQ)
OFFER_ID = typed_id(ShortId.OF)
MAX_TEXT = 2000
ASKERS = frozenset({Role.NCPOC, Role.CHAIR})
OFFERERS = frozenset({Role.NCPOC, Role.CHAIR, Role.STEERING, Role.CONTACT})


class RequestsConfig(Section):
    unanswered_after: Duration = Field(
        timedelta(days=3),
        description='a duration such as "3d": a request with no offer by then is the chair\'s',
    )
    remind_before: Duration = Field(
        timedelta(days=2),
        description='a duration such as "2d": the requester (and the offer accepted) reminded '
        "before due=",
    )
    preservation_answer_within: Duration = Field(
        timedelta(hours=24),
        description='a duration such as "24h": a preservation request not acknowledged by '
        "then is asked again, wider",
    )


router.section("requests", RequestsConfig)


def ref(request: AssistanceRequest) -> Ref:
    return Ref(RefKind.REQUEST, request.number)


def seal_of(request: AssistanceRequest) -> Seal:
    """An output showing the request in full: its label (TLP:RED: its hearers only)."""
    return sealed(request.tlp, heard_by(request))


def named(request: AssistanceRequest) -> Seal:
    """A notice naming the request (its ID, country, kind) to someone who put it or answered
    it, to whom it was put by name: its label (TLP:RED: its hearers only, as offers on a RED
    request come from them alone)."""
    return seal_of(request) if request.tlp == "red" else Seal(request.tlp)


# --- asking ---------------------------------------------------------------------------------


@router.command(
    "request",
    summary="ask the region for help: forensic, preservation, expertise, training, equipment "
    "or a partner",
    roles=ASKERS,
    params=[
        Pos("kind", choice(*KINDS), "|".join(KINDS)),
        Opt("item", item_of, "<item>"),
        Opt("to", country, "XX"),
        Opt("due", due_typed, "YYYY-MM-DD", words=3),
        Opt("country", country, "XX"),
        Opt("tlp", tlp),
        Text("text", "what you need"),
    ],
    example="!request forensic item=technical.forensics due=2027-01-15 Examiner for two phones",
    details="Opens RQ-n for your country (the chair names one with country=). It is matched "
    "at once: resources linked to the item, countries that met it, the plan's partners, "
    "projects under way; the matched countries' NCPOCs are asked. A preservation request "
    "names the country asked with to=XX: its 24/7 law-enforcement contacts are alerted at "
    "once, and again with its NCPOCs and the chair every [requests] "
    "preservation_answer_within until one acknowledges. AMBER unless tlp= says otherwise; "
    "a RED request is asked without its text (a preservation request cannot be RED).",
)
async def request(
    ctx: Context, kind: str, item: Item | None, to: Country | None, due: DueInput | None,
    country: Country | None, tlp: str | None, text: str,
) -> str:  # fmt: skip
    text = " ".join(text.split())
    if not text or len(text) > MAX_TEXT:
        raise CommandError(_("say what you need (up to {n} characters)").format(n=MAX_TEXT))
    mine = acting_country(ctx, country)
    level = said(ctx, tlp)
    if kind == "preservation" and to is None:
        raise CommandError(_("a preservation request names the country asked to preserve: to=XX"))
    if kind == "preservation" and level == "red":
        raise CommandError(
            _("a preservation request goes by name to another country's 24/7 contacts: it "
              "cannot be TLP:RED")
        )  # fmt: skip
    if to is not None and to.code == mine.code:
        raise CommandError(_("a request asks another country, not your own"))
    due_at = resolve_due(due, ctx.env.zone, ctx.config) if due is not None else None
    if due_at is not None and due_at <= ctx.now:
        raise CommandError(_("due= is in the past"))
    match = await matched(ctx.store, ctx, kind, item, mine.code)
    asked = [to.code] if to is not None else match["countries"]
    row = await ctx.store.of(RequestStore).add(
        kind=kind, country=mine.code, asked=to.code if to else None,
        item=item.id if item else None, due_at=due_at, text=text, tlp=level,
        origin_room=ctx.room_id, said_to=hearers(ctx.viewer.audience), author=ctx.sender,
        event_id=ctx.event_id, matched=pack(asked), now=ctx.now,
    )  # fmt: skip
    ctx.wake(JOB, row.number)  # the asks go out from the job, once each
    name = ShortId.RQ.of(row.number)
    ctx.audit_detail = f"{name} {kind} {mine.code} {label(level)} asked {','.join(asked)}"
    return _answer(ctx, row, match, mine)


async def matched(
    store: Stores, ctx: Context, kind: str, item: Item | None, country: str
) -> dict[str, Any]:
    """Who can help: for an item, `projects.helpers` (its linked resources, the countries
    that met it, projects, partners); without one, resources of the kind that answers it.
    Only what this room may read is listed; the countries asked are every country found."""
    if item is not None:
        latest = await store.status.latest()
        found = await helpers(store, ctx.env.reference, ctx.viewer, item, country, latest)
        met = sorted(
            {u.country for u in latest if u.item_id == item.id and u.state == "met"} - {country}
        )
        resources = found["resources"]
        projects, partners = found["projects"], found["partners"]
    else:
        met, projects, partners = [], [], []
        resources = []
        wanted = RESOURCE_KINDS.get(kind)
        if wanted is not None:
            rows = await store.resources.find(
                in_full=ctx.viewer.audience.in_full(), kind=wanted, limit=20
            )
            resources = [
                resource_row(r)
                for r in rows
                if r.country != country and ctx.viewer.in_full(r.tlp, r.origin_room, heard_by(r))
            ]  # fmt: skip
    countries = sorted({*met, *(r["country"] for r in resources if r["country"])} - {country})
    return {"met": met, "resources": resources, "projects": projects, "partners": partners,
            "countries": countries}  # fmt: skip


def _answer(ctx: Context, row: AssistanceRequest, match: dict[str, Any], mine: Country) -> str:
    name = ShortId.RQ.of(row.number)
    lines = [
        _("✅ {id} opened for {country}: {kind}{item} [{label}].").format(
            id=name,
            country=mine.name,
            kind=row.kind,
            item=f" ({row.item})" if row.item else "",
            label=label(row.tlp),
        )
    ]
    if match["met"]:
        ctx.viewer.sees(NOTES)  # who met an item is status data, shared as GREEN
        names = ", ".join(f"{ctx.env.reference.countries.name_of(c)} ({c})" for c in match["met"])
        lines.append(_("Countries that met the item: {c}.").format(c=names))
    for r in match["resources"][:10]:
        lines.append(f"  {r['id']} [{r['label']}] ({r['kind']}, {r['country'] or 'regional'}): "
                     f"{r['description']}")  # fmt: skip
    if match["projects"]:
        ids = ", ".join(f"{p['id']} “{p['title']}”" for p in match["projects"])
        lines.append(_("Projects under way: {ids}.").format(ids=ids))
    if match["partners"]:
        lines.append(_("Partners the plan names: {p}.").format(p="; ".join(match["partners"])))
    asked = unpack(row.matched)
    if row.kind == "preservation":
        lines.append(
            _("{country}'s 24/7 law-enforcement contacts are being alerted; you will be told "
              "when one acknowledges.").format(country=ctx.env.reference.countries.name_of(
                  row.asked or ""))
        )  # fmt: skip
    elif asked:
        lines.append(_("Asked: the NCPOCs of {c}.").format(c=", ".join(asked)))
    else:
        lines.append(_("No country matched: the chair will see it if no offer comes."))
    lines.append(_("Offers come as OF-n; accept one with !accept {id} OF-n.").format(id=name))
    return "\n".join(lines)


# --- the job: asks, the preservation chain, reminders ------------------------------------------


async def open_requests(store: Stores, config: Any, now: datetime) -> list[int]:
    return [r.number for r in await store.of(RequestStore).find(states=OPEN)]


@router.job(JOB, pending=open_requests, summary="a request's asks, its chain and its reminders")
async def follow(job: JobContext, key: int) -> datetime | None:
    """The asks (once), the preservation chain until acknowledged, the chair told of no
    offer, the reminder before due; returns when something next falls due."""
    row = await job.store.of(RequestStore).get(key)
    if row is None or row.state not in OPEN:
        return None
    config = job.config[RequestsConfig]
    later: list[datetime] = []
    if row.rounds == 0:
        await _ask(job, row)
        row.rounds = 1
    if row.kind == "preservation" and row.acked_at is None:
        due = row.created_at + row.rounds * config.preservation_answer_within
        if job.now >= due:
            await _ring(job, row, wider=True)
            row.rounds += 1
            due = row.created_at + row.rounds * config.preservation_answer_within
        later.append(due)
    if row.first_offer_at is None and row.unanswered_told_at is None:
        at = row.created_at + config.unanswered_after
        if job.now >= at:
            await _tell_chairs(job, row, "unanswered")
            row.unanswered_told_at = job.now
        else:
            later.append(at)
    if row.due_at is not None and row.reminded_at is None:
        at = row.due_at - config.remind_before
        if job.now >= at:
            await _remind(job, row)
            row.reminded_at = job.now
        else:
            later.append(at)
    return min(later) if later else None


async def _ask(job: JobContext, row: AssistanceRequest) -> None:
    """Round one: a preservation request's 24/7 contacts by name; any other, the NCPOCs of
    the countries matched."""
    if row.kind == "preservation":
        await _ring(job, row, wider=False)
        return
    for entry in await job.store.roster.ncpocs_in(unpack(row.matched)):
        await _dm(job, row, str(entry.user_id))
    job.audit_detail = f"{ShortId.RQ.of(row.number)} asked {row.matched.strip(',')}"


async def _ring(job: JobContext, row: AssistanceRequest, *, wider: bool) -> None:
    """The asked country's 24/7 law-enforcement contacts, by name (a copy for each, as a
    broadcast's); `wider`: also its NCPOCs, and the chair told who has not answered."""
    entries = await job.store.roster.national(row.asked)
    tier = ranked(entries)
    contacts = [e for e in entries if tier[e.id] == "le-24x7"]
    people = {stand_in(e, job.now, entries) for e in contacts}
    for person in sorted(people):
        if not person.startswith("mailto:"):
            words = partial(_words, row, job.env.zone, True, wider)
            await job.post(
                Deferred(words), to_user=person, mentions=[person], ref=ref(row), alert=True,
                seal=_by_name(row, person),
            )  # fmt: skip
    # By email, as a broadcast's fallback: a contact without a Matrix account at once, the
    # others with an address once, when the chain first widens.
    emailed = [e for e in contacts if e.email and (
        str(e.user_id).startswith("mailto:") if not wider else row.rounds == 1)]  # fmt: skip
    if emailed and job.config.mail:
        await _email(job, row, [str(e.email) for e in emailed])
    if wider:
        for entry in await job.store.roster.ncpocs(row.asked):
            await _dm(job, row, str(entry.user_id))
        await _tell_chairs(job, row, "silent", contacts=contacts)
    job.audit_detail = (
        f"{ShortId.RQ.of(row.number)} round {row.rounds}: {len(people)} 24/7 contact(s) of "
        f"{row.asked}" + (" and its NCPOCs, chair told" if wider else "")
    )


EMAIL_TEXT_UP_TO = ("clear", "green")  # labels whose text an email may carry


async def _email(job: JobContext, row: AssistanceRequest, addresses: list[str]) -> None:
    """The ask by email: its text only up to TLP:GREEN, else where to read it."""
    shown = row.tlp in EMAIL_TEXT_UP_TO
    name = ShortId.RQ.of(row.number)
    data = {
        "id": name, "country": row.country, "kind": row.kind, "author": row.author,
        "text": row.text if shown else None, "label": label(row.tlp),
        "committee": job.config.committee.name, "prefix": job.config.committee.command_prefix,
        "carried": label(row.tlp) if shown else None,
    }  # fmt: skip
    subject = f"[{label(row.tlp)}] {row.kind.upper()} request {name} from {row.country}"
    for address in addresses:
        await job.email(
            address, subject, View("requests/email", data), ref=ref(row),
            seal=Seal(row.tlp) if shown else CHROME,
        )  # fmt: skip


def _by_name(row: AssistanceRequest, person: str) -> Seal:
    """A preservation request's copy for a 24/7 contact, who is asked by name (never RED)."""
    return Seal(row.tlp, bound_to=frozenset({person}) if row.tlp == "red" else None)


async def _dm(job: JobContext, row: AssistanceRequest, person: str) -> None:
    """An NCPOC asked: the request as their DM may show it (TLP:RED: its hearers only)."""
    viewer = Viewer(direct(person, Clearance.RCC))
    shown = viewer.sees(row.tlp, row.origin_room, heard_by(row))
    if shown == Show.NOTHING:
        return
    await job.post(
        Deferred(partial(_words, row, job.env.zone, shown == Show.FULL, False)), to_user=person,
        mentions=[person], ref=ref(row), alert=True, seal=viewer.seal(),
    )  # fmt: skip


def _words(row: AssistanceRequest, zone: ZoneInfo, full: bool, again: bool) -> str:
    """An ask, in its reader's language: the request in full, or (where its label keeps it
    from them) its ID, kind and country and whom to ask."""
    name = ShortId.RQ.of(row.number)
    day = row.due_at.astimezone(zone).date().isoformat() if row.due_at else ""
    head = _("🆘 {again}{id} [{label}]: {country} asks for {kind}{item}{due}.").format(
        again=_("Still not acknowledged: ") if again else "", id=name, label=label(row.tlp),
        country=row.country, kind=row.kind, item=f" ({row.item})" if row.item else "",
        due=_(", due {day}").format(day=day) if day else "",
    )  # fmt: skip
    if not full:
        return head + " " + _("Its text is for fewer readers: ask {who}.").format(who=row.author)
    how = (
        _("Acknowledge: reply “ack” to this message or send !request ack {id}; then say what "
          "was done with !offer {id} <text>.")
        if row.kind == "preservation"
        else _("Can your country help? !offer {id} <what you can do>")
    ).format(id=name)  # fmt: skip
    asked_by = _("Asked by {who}.").format(who=row.author)
    return f"{head}\n{row.text}\n{asked_by} {how}"


async def _tell_chairs(
    job: JobContext, row: AssistanceRequest, why: str, contacts: Sequence[Any] = ()
) -> None:
    """The chair: a request no one offered on, or a preservation request not acknowledged
    (with the 24/7 contacts' phone numbers: for the chair's eyes only)."""
    phones = [f"{e.user_id} {e.phone}" for e in contacts if getattr(e, "phone", None)]
    for chair in await job.chairs():
        viewer = Viewer(direct(chair, Clearance.CHAIR))  # it names the request: its label
        viewer.sees(row.tlp, row.origin_room, heard_by(row))
        await job.post(
            Deferred(partial(_chair_words, row, why, phones, job.env.zone)), to_user=chair,
            seal=strictest(PRIVATE, viewer.seal()) if phones else viewer.seal(),
        )  # fmt: skip


def _chair_words(row: AssistanceRequest, why: str, phones: list[str], zone: ZoneInfo) -> str:
    name = ShortId.RQ.of(row.number)
    if why == "unanswered":
        return _(
            "📭 {id} ({country}, {kind}) has had no offer since {day}. !requests open lists it."
        ).format(id=name, country=row.country, kind=row.kind,
                 day=row.created_at.astimezone(zone).date().isoformat())  # fmt: skip
    words = _(
        "📞 {id}: {asked}'s 24/7 law-enforcement contacts have not acknowledged the "
        "preservation request from {country} (round {round}); its NCPOCs are asked now."
    ).format(id=name, asked=row.asked, country=row.country, round=row.rounds)
    return words + ("\n" + _("Call: {phones}").format(phones="; ".join(phones)) if phones else "")


async def _remind(job: JobContext, row: AssistanceRequest) -> None:
    """Before due=: the requester, and whoever made the offer accepted."""
    people = [row.author]
    if row.accepted_offer is not None:
        offer = await job.store.of(RequestStore).get_offer(row.accepted_offer)
        if offer is not None:
            people.append(offer.author)
    for person in dict.fromkeys(people):
        await job.post(
            Deferred(partial(_reminder_words, row, job.env.zone)), to_user=person, ref=ref(row),
            seal=named(row),
        )  # fmt: skip


def _reminder_words(row: AssistanceRequest, zone: ZoneInfo) -> str:
    assert row.due_at is not None
    return _("⏰ {id} ({country}, {kind}) is due on {day}; it is {state}.").format(
        id=ShortId.RQ.of(row.number), country=row.country, kind=row.kind,
        day=row.due_at.astimezone(zone).date().isoformat(), state=row.state,
    )  # fmt: skip


# --- acknowledging a preservation request ------------------------------------------------------


@router.command(
    "request ack",
    summary="acknowledge a preservation request your country was asked",
    roles=NATIONAL,
    params=[Pos("id", REQUEST_ID, "RQ-n")],
    example="!request ack RQ-4",
)
async def request_ack(ctx: Context, id: int) -> str:
    row = await _get(ctx, id, shown=False)
    return await _acknowledged(ctx, row)


async def _acknowledged(ctx: Context, row: AssistanceRequest) -> str:
    name = ShortId.RQ.of(row.number)
    if row.kind != "preservation" or ctx.member is None or ctx.member.country != row.asked:
        raise Refused(_("{id} was not asked of your country").format(id=name))
    if row.acked_at is not None:
        return _("{id} was acknowledged already by {who}.").format(id=name, who=row.acked_by)
    row.acked_by, row.acked_at = ctx.sender, ctx.now
    await ctx.reply(
        _("✅ {id}: {who} ({asked}) acknowledged your preservation request.").format(
            id=name, who=ctx.sender, asked=row.asked
        ),
        to_user=row.author, mentions=[row.author], ref=ref(row), seal=named(row),
    )  # fmt: skip
    ctx.wake(JOB, row.number)
    ctx.audit_detail = f"{name} acknowledged by {row.asked}"
    return _("✅ {id} acknowledged; {who} is told. Say what was done: !offer {id} <text>").format(
        id=name, who=row.author
    )


def _is_ack(said: Input) -> bool:
    if said.reaction is not None:
        return is_ack_reaction(said.reaction)
    return said.reply_to is not None and is_ack_text(strip_reply_fallback(said.body))


@router.listener("request ack", accepts=_is_ack)
async def ack_by_reply(ctx: Context, said: Input) -> str | None:
    """A reply “ack” (or ✅) to a preservation request's ask acknowledges it."""
    tag = Ref.parse(await ctx.store.outbox.ref_of(said.reply_to or ""))
    if tag is None or tag.kind != RefKind.REQUEST:
        return None
    row = await ctx.store.of(RequestStore).get(tag.key)
    if row is None or row.kind != "preservation" or row.acked_at is not None:
        return None
    if ctx.member is None or ctx.member.country != row.asked:
        return None
    return await _acknowledged(ctx, row)


# --- answering: offers, acceptance, delivery, closing ------------------------------------------


async def _get(ctx: Context, number: int, *, shown: bool = True) -> AssistanceRequest:
    """A request; `shown`: one this room may read in full (else it does not exist here)."""
    row = await ctx.store.of(RequestStore).get(number)
    name = ShortId.RQ.of(number)
    if row is None or (shown and not ctx.viewer.in_full(row.tlp, row.origin_room, heard_by(row))):
        raise CommandError(_("there is no {id}").format(id=name))
    return row


async def _ours(ctx: Context, number: int, *, still: tuple[str, ...] = OPEN) -> AssistanceRequest:
    """A request this sender decides on (its country's NCPOCs, or the chair), in one of the
    states `still` it must be in."""
    row = await _get(ctx, number)
    _requesting_side(ctx, row)
    _still_open(row, still)
    return row


def _requesting_side(ctx: Context, row: AssistanceRequest) -> None:
    mine = own_country(ctx)
    if not (ctx.has_role(Role.CHAIR) or (mine is not None and mine.code == row.country)):
        raise Refused(
            _("only {country}'s NCPOCs or the chair decide on {id}").format(
                country=row.country, id=ShortId.RQ.of(row.number)
            )
        )


def _still_open(row: AssistanceRequest, still: tuple[str, ...] = OPEN) -> None:
    if row.state not in still:
        raise CommandError(
            _("{id} is {state}").format(id=ShortId.RQ.of(row.number), state=row.state)
        )


@router.command(
    "offer",
    summary="offer help on a request (RQ-n): the requesting country is told",
    roles=OFFERERS,
    params=[Pos("id", REQUEST_ID, "RQ-n"), Text("text", "what you offer")],
    example="!offer RQ-3 Our lab can image both phones next week; send them via the embassy",
)
async def offer(ctx: Context, id: int, text: str) -> str:
    row = await _get(ctx, id, shown=not ctx.has_role(Role.CONTACT))
    if ctx.has_role(Role.CONTACT) and (ctx.member is None or ctx.member.country != row.asked):
        raise CommandError(_("there is no {id}").format(id=ShortId.RQ.of(id)))
    _still_open(row)
    text = " ".join(text.split())
    if not text or len(text) > MAX_TEXT:
        raise CommandError(_("say what you offer (up to {n} characters)").format(n=MAX_TEXT))
    mine = ctx.member.country if ctx.member else None
    if mine == row.country:
        raise CommandError(_("{id} is your own country's request").format(id=ShortId.RQ.of(id)))
    made = await ctx.store.of(RequestStore).offer(
        row, country=mine, text=text, author=ctx.sender, event_id=ctx.event_id, now=ctx.now
    )
    if row.kind == "preservation" and row.acked_at is None and mine == row.asked:
        row.acked_by, row.acked_at = ctx.sender, ctx.now  # an answer acknowledges it
    name, of = ShortId.RQ.of(id), ShortId.OF.of(made.number)
    await ctx.reply(
        _("🤝 {of} on {id} from {who}{country}: {text}\nAccept it: !accept {id} {of}").format(
            of=of, id=name, who=ctx.sender, country=f" ({mine})" if mine else "", text=text
        ),
        to_user=row.author, mentions=[row.author], ref=ref(row), seal=seal_of(row),
    )  # fmt: skip
    ctx.audit_detail = f"{of} on {name}"
    return _("✅ {of} sent to {who} for {id}. [{label}]").format(
        of=of, who=row.author, id=name, label=label(row.tlp)
    )


@router.command(
    "accept",
    summary="accept an offer on your country's request",
    roles=CONTRIBUTORS,
    params=[Pos("id", REQUEST_ID, "RQ-n"), Pos("offer", OFFER_ID, "OF-n")],
    example="!accept RQ-3 OF-7",
)
async def accept(ctx: Context, id: int, offer: int) -> str:
    row = await _ours(ctx, id)
    made = await ctx.store.of(RequestStore).get_offer(offer)
    if made is None or made.request != row.number:
        raise CommandError(
            _("{of} is not an offer on {id}").format(of=ShortId.OF.of(offer), id=ShortId.RQ.of(id))
        )
    row.state, row.accepted_offer = "accepted", made.number
    name, of = ShortId.RQ.of(id), ShortId.OF.of(offer)
    await ctx.reply(
        _("✅ Your offer {of} on {id} was accepted by {who}.").format(
            of=of, id=name, who=ctx.sender
        ),
        to_user=made.author, mentions=[made.author], ref=ref(row), seal=named(row),
    )  # fmt: skip
    ctx.audit_detail = f"{name} accepted {of}"
    return _("✅ {id}: {of} accepted; {who} is told.").format(id=name, of=of, who=made.author)


@router.command(
    "delivered",
    summary="the help asked for in a request was delivered",
    roles=CONTRIBUTORS,
    params=[Pos("id", REQUEST_ID, "RQ-n")],
    example="!delivered RQ-3",
)
async def delivered(ctx: Context, id: int) -> str:
    row = await _ours(ctx, id)
    row.state, row.delivered_at = "delivered", ctx.now
    ctx.audit_detail = f"{ShortId.RQ.of(id)} delivered"
    return _("✅ {id} delivered. Close it with your feedback: !close {id} <feedback>").format(
        id=ShortId.RQ.of(id)
    )


@router.command(
    "close",
    summary="close a request, with feedback on the help received",
    roles=CONTRIBUTORS,
    params=[Pos("id", REQUEST_ID, "RQ-n"), Text("feedback", "feedback", required=False)],
    example="!close RQ-3 Both phones imaged in four days; evidence accepted by the court",
)
async def close(ctx: Context, id: int, feedback: str) -> str:
    row = await _ours(ctx, id, still=(*OPEN, "delivered"))
    feedback = " ".join(feedback.split())[:MAX_TEXT]
    row.state, row.closed_at, row.feedback = "closed", ctx.now, feedback or None
    ctx.audit_detail = f"{ShortId.RQ.of(id)} closed"
    return _("✅ {id} closed.").format(id=ShortId.RQ.of(id))


@router.command(
    "withdraw",
    summary="withdraw your country's request",
    roles=CONTRIBUTORS,
    params=[Pos("id", REQUEST_ID, "RQ-n")],
    example="!withdraw RQ-3",
)
async def withdraw(ctx: Context, id: int) -> str:
    row = await _ours(ctx, id)
    row.state, row.closed_at = "withdrawn", ctx.now
    ctx.audit_detail = f"{ShortId.RQ.of(id)} withdrawn"
    return _("✅ {id} withdrawn; nobody is asked any more.").format(id=ShortId.RQ.of(id))


# --- listing -------------------------------------------------------------------------------------


def scope(text: str, env: ParseEnv) -> str:
    """`open`, `mine`, `all` or a country."""
    key = text.strip().casefold()
    if key in ("open", "mine", "all"):
        return key
    found = env.reference.countries.resolve(key)
    if found is None:
        raise ArgumentError(
            _("{text!r} is neither open, mine, all nor a country").format(text=text)
        )
    return found.code


@router.command(
    "requests",
    summary="requests for assistance: open ones, yours, or a country's",
    roles=READERS,
    params=[Pos("which", scope, "open|mine|all|XX", optional=True)],
    example="!requests open",
)
async def requests(ctx: Context, which: str | None) -> View:
    store = ctx.store.of(RequestStore)
    which = which or "open"
    if which == "open":
        found = await store.find(states=OPEN)
    elif which == "mine":
        mine = own_country(ctx)
        found = await (store.find(country=mine.code) if mine else store.find(author=ctx.sender))
    elif which == "all":
        found = await store.find()
    else:
        found = await store.find(country=which)
    rows, hidden = [], 0
    for r in found:
        if not ctx.viewer.in_full(r.tlp, r.origin_room, heard_by(r)):
            hidden += 1
            continue
        offers = await store.offers(r.number)
        rows.append({
            "id": ShortId.RQ.of(r.number), "kind": r.kind, "country": r.country,
            "asked": r.asked, "item": r.item, "state": r.state, "text": r.text,
            "label": label(r.tlp), "by": r.author,
            "due": when(r.due_at, ctx.env.zone) if r.due_at else None,
            "offers": [{"id": ShortId.OF.of(o.number), "country": o.country, "by": o.author,
                        "text": o.text, "accepted": o.number == r.accepted_offer}
                       for o in offers],
            "acked_by": r.acked_by, "feedback": r.feedback,
        })  # fmt: skip
    return View("requests/list", {"rows": rows, "hidden": hidden, "which": which} | carried(ctx))
