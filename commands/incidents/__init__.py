"""`!incident`: alert the region, follow an incident to closure, with TLP 2.0 enforced."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from commands import i18n, taxonomy
from commands.audience import Viewer, heard_by, hearers
from commands.common import own_country
from commands.context import Context
from commands.corrections import check_label, corrected
from commands.framework import (
    CONTRIBUTORS,
    READERS,
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
    file_in_reply,
)
from commands.i18n import N_, _
from commands.incidents import alerts, observables
from commands.reference import Country
from commands.tlp import (
    carried,
    carried_by,
    check_postable,
    label,
    listing,
    present,
    stricter,
    tlp,
)
from commands.types import choice, country, csv, typed_id, user_id, word
from commands.values import Ref, RefKind, ShortId
from storage.incidents import Incident
from storage.lists import pack, unpack

router = Router(
    "incidents",
    templates=Path(__file__).parent / "templates",
    topic=N_("incidents shared with the region, under TLP"),
)
router.alias("incident", "inc")

SEVERITIES = ("low", "medium", "high", "critical")
STATUSES = ("open", "contained", "resolved")
MAX_TITLE, MAX_NOTE = 300, 4000
INCIDENT_ID = typed_id(ShortId.INC)


def _sector(text: str, env: ParseEnv) -> str:
    return word(text, env).casefold()


@router.command(
    "incident new",
    summary="report an incident to the region (alerts the NCPOCs concerned and the chair)",
    roles=CONTRIBUTORS,
    params=[
        Opt("severity", choice(*SEVERITIES), required=True),
        Opt("tlp", tlp, required=True),
        Opt("sectors", csv(_sector), "a,b"),
        Opt("countries", csv(country), "JM,TT"),
        Opt("for", csv(user_id), "@a,@b"),
        Opt("type", taxonomy.INCIDENT_TYPE),
        Opt("crime", choice(*taxonomy.CRIMES)),
        Text("title", "title"),
    ],
    example="!incident new severity=high tlp=amber sectors=finance countries=JM,TT "
    "type=phishing crime=fraud Phishing wave against bank customers",
    details="high and critical incidents, and any naming countries=, alert (a mention that "
    "notifies) the NCPOCs of the countries concerned (those named, else every NCPOC) and "
    "the chair. Reported outside the RCC room (in a DM with the bot, say), the RCC room is "
    "told of it too, as much as its readers may see (for TLP:RED: its ID, label and whom to "
    "ask), and each person concerned gets a DM. TLP:RED is refused in "
    "unencrypted rooms and where new members can read back; AMBER only in the RCC room or a "
    "DM with the bot. TLP:RED is for the people in the room when it is posted, and those "
    "named with for=: a later joiner sees only its label.",
)
async def incident_new(
    ctx: Context,
    severity: str,
    tlp: str,
    sectors: list[str] | None,
    countries: list[Country] | None,
    for_: list[str] | None,
    type: str | None,
    crime: str | None,
    title: str,
) -> None:
    check_postable(tlp, ctx)
    if len(title) > MAX_TITLE:
        raise CommandError(
            _("the title is too long ({size} characters; at most {MAX_TITLE})").format(
                size=len(title), MAX_TITLE=MAX_TITLE
            )
        )
    home = own_country(ctx)
    named = [c.code for c in countries or []]
    incident = await ctx.store.incidents.create(
        title=title,
        severity=severity,
        tlp=tlp,
        sectors=sectors or [],
        countries=named,
        reporter=ctx.sender,
        reporter_country=home.code if home else None,
        room_id=ctx.room_id,
        event_id=ctx.event_id,
        now=ctx.now,
        said_to=hearers(ctx.viewer.audience, for_ or ()),
        rsit=type,
        crime=crime,
    )
    ctx.audit_detail = f"{ShortId.INC.of(incident.number)} {severity} {label(tlp)}"
    data = _summary(ctx, incident) | await alerts.ring(ctx, incident)
    if crime == taxonomy.CHILD_EXPLOITATION:
        data["law_enforcement"] = await alerts.tell_law_enforcement(ctx, incident)
    await ctx.reply(
        View("incidents/created", data | carried(ctx)),
        mentions=data["mentions"], alert=bool(data["mentions"]),
        ref=Ref(RefKind.INCIDENT, incident.number),
    )  # fmt: skip


async def _incident(ctx: Context, number: int) -> Incident:
    """The incident, if there is one this room may at least see the label of."""
    incident = await ctx.store.incidents.get(number)
    present(ctx, incident, ShortId.INC.of(number))
    assert incident is not None
    return incident


async def _changeable(ctx: Context, number: int) -> Incident:
    """The incident, if this sender may change it here: its reporting country's NCPOCs or
    the chair, where it may be posted (TLP:RED: where it was). What is said of it then goes
    in the incident's thread, rooted at its alert in this room."""
    incident = await _incident(ctx, number)
    _check_room(ctx, incident)
    _check_owner(ctx, incident)
    await ctx.in_thread_of(Ref(RefKind.INCIDENT, incident.number))
    return incident


def _check_owner(ctx: Context, incident: Incident) -> None:
    """An incident is changed by the NCPOCs of the country that reported it, or the chair:
    another country may read it, not rewrite, close or relabel it."""
    if ctx.has_role(Role.CHAIR):
        return
    mine = own_country(ctx)
    if incident.reporter_country is not None:
        if mine is not None and mine.code == incident.reporter_country:
            return
    elif incident.reporter == ctx.sender:
        return  # reported by someone with no country then: theirs alone
    whose = ctx.env.reference.countries.name_of(incident.reporter_country or "")
    raise Refused(
        _(
            "{id} was reported by {whose}: only its NCPOCs or the chair may change it. "
            "Add what you know with a new incident, or tell them."
        ).format(id=ShortId.INC.of(incident.number), whose=whose or incident.reporter)
    )


def _check_room(ctx: Context, incident: Incident) -> None:
    """An incident is updated or closed only where it may be posted (RED: where it was)."""
    if incident.tlp == "red" and ctx.room_id != incident.origin_room:
        raise CommandError(
            _("{id} is TLP:RED: update it in the room where it was reported").format(
                id=ShortId.INC.of(incident.number)
            )
        )
    check_postable(incident.tlp, ctx)


CLOSING = dict.fromkeys(
    ("closed", "close", "done", "finished"),
    "to close an incident with its summary: !incident close INC-n <summary>",
)
# A state said as the first word of an update, as people write it in the bot's four
# languages (accents optional): `contained`, `résolu, domaines retirés`.
SAID_STATES = {
    "contained": "contained", "contenu": "contained", "maitrise": "contained",
    "ingedamd": "contained", "beheerst": "contained", "contenido": "contained",
    "controlado": "contained", "resolved": "resolved", "resolu": "resolved",
    "opgelost": "resolved", "resuelto": "resolved",
}  # fmt: skip
SAID_CLOSED = {"closed", "ferme", "clos", "cloture", "gesloten", "afgesloten", "cerrado"}
# Its first word, and whether it stands alone (the end, or a comma, colon or dash after it).
LEADING = re.compile(r"^\s*([^\W\d_]+)(\s*(?:[,:;.\u2013\u2014-]|$))?\s*(.*)$", re.DOTALL)


def _said_state(id: int, note: str) -> tuple[str | None, str, str | None]:
    """The state an update's first word says, the note without it, and a hint when the
    word may be meant otherwise; `closed` is answered with the command that closes."""
    match = LEADING.match(note)
    if match is None:
        return None, note, None
    word, alone, rest = _folded(match.group(1)), match.group(2) is not None, match.group(3)
    if word in SAID_CLOSED and alone:
        raise CommandError(
            _("an incident is closed with its summary: {command}").format(
                command=f"!incident close {ShortId.INC.of(id)} {rest or _('<summary>')}"
            )
        )
    state = SAID_STATES.get(word)
    if state is None:
        return None, note, None
    if alone:
        return state, rest.strip(), None
    hint = _("to change its status as well: {command}").format(
        command=f"!incident update {ShortId.INC.of(id)} status={state} …"
    )
    return None, note, hint


def _folded(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@router.command(
    "incident update",
    summary="add to an incident's history; optionally change its status or severity",
    roles=CONTRIBUTORS,
    params=[
        Pos("id", INCIDENT_ID, "<INC-n>"),
        Opt("status", choice(*STATUSES, hints=CLOSING)),
        Opt("severity", choice(*SEVERITIES)),
        Text("note", "note"),
    ],
    example="!incident update INC-12 status=contained Phishing domain taken down",
    details="A closed incident is reopened with status=open.",
)
async def incident_update(
    ctx: Context, id: int, status: str | None, severity: str | None, note: str
) -> str:
    incident = await _changeable(ctx, id)
    hint = None
    if status is None:  # `!incident update INC-1 contained, domains taken down`
        status, note, hint = _said_state(id, note)
    if incident.status == "closed" and status != "open":
        raise CommandError(
            _("{id} is closed; reopen it with status=open").format(id=ShortId.INC.of(id))
        )
    if len(note) > MAX_NOTE:
        raise CommandError(
            _("the note is too long ({size} characters; at most {MAX_NOTE})").format(
                size=len(note), MAX_NOTE=MAX_NOTE
            )
        )
    await ctx.store.incidents.update(
        incident,
        kind="update",
        note=note,
        status=status,
        severity=severity,
        author=ctx.sender,
        room_id=ctx.room_id,
        event_id=ctx.event_id,
        now=ctx.now,
    )
    ctx.audit_detail = f"{ShortId.INC.of(id)} update" + (f" status={status}" if status else "")
    await keep_current(ctx, incident)
    changes = [_("status {status}").format(status=status)] if status else []
    if severity:
        changes.append(_("severity {severity}").format(severity=severity))
    changed = f" ({', '.join(changes)})" if changes else ""
    done = _("✅ {id} updated{changed}. [{label}]").format(
        id=ShortId.INC.of(id), changed=changed, label=label(incident.tlp)
    )
    return f"{done}\n{hint}" if hint else done


@router.command(
    "incident escalate",
    summary="ask the chair to make your country's incident an emergency broadcast",
    roles=CONTRIBUTORS,
    params=[Pos("id", INCIDENT_ID, "<INC-n>"), Text("why", "why", required=False)],
    example="!incident escalate INC-12 Spreading to banks across the region; patch today",
    details="By the reporting country's NCPOCs. The chair gets a DM that rings, with the "
    "incident as the chair may read it and your reason, and sends it to every national "
    "contact with !broadcast from=INC-n (carrying the incident's label and summary). Kept "
    "in the incident's history.",
)
async def incident_escalate(ctx: Context, id: int, why: str) -> str:
    incident = await _changeable(ctx, id)
    name = ShortId.INC.of(id)
    prefix = ctx.config.committee.command_prefix
    if ctx.has_role(Role.CHAIR):
        raise CommandError(
            _("you are the chair: make it a broadcast with {command}").format(
                command=f"{prefix}broadcast from={name}"
            )
        )
    if incident.status == "closed":
        raise CommandError(_("{id} is closed; reopen it with status=open").format(id=name))
    if len(why) > MAX_NOTE:
        raise CommandError(
            _("the note is too long ({size} characters; at most {MAX_NOTE})").format(
                size=len(why), MAX_NOTE=MAX_NOTE
            )
        )
    chairs = await alerts.ask_chairs(ctx, incident, why)
    if not chairs:
        raise CommandError(_("nobody on the roster is chair: there is nobody to ask"))
    await ctx.store.incidents.update(
        incident, kind="escalated", note=why, status=None, severity=None, author=ctx.sender,
        room_id=ctx.room_id, event_id=ctx.event_id, now=ctx.now,
    )  # fmt: skip
    ctx.audit_detail = f"{name} escalated to {', '.join(chairs)}"
    return _(
        "⬆️ {id}: the chair was asked ({chairs}) to send it to every national contact. [{label}]"
    ).format(id=name, chairs=", ".join(chairs), label=label(incident.tlp))


@router.command(
    "incident observe",
    summary="add indicators to an incident: IP addresses, domains, URLs, file hashes, emails",
    roles=CONTRIBUTORS,
    params=[
        Pos("id", INCIDENT_ID, "<INC-n>"),
        *(Opt(kind, observables.parser(kind)) for kind in observables.KINDS),
        Opt("tlp", tlp),
    ],
    example="!incident observe INC-12 domain=secure-bank[.]example ip=203.0.113.7 "
    "hash=44d88612fea8a8f36de82e1278abb02f",
    details="By the reporting country's NCPOCs or the chair. Several of a kind are "
    "comma-separated; defanged spellings are taken (hxxp, [.]), domains are kept in "
    "lower-case ASCII (IDNA), hashes named by their length. Each is labelled like the "
    "incident unless tlp= says stricter. Should another country's incident have one of them, "
    "both countries' NCPOCs are told that the two share an indicator, never which.",
)
async def incident_observe(
    ctx: Context, id: int, ip: list[str] | None, domain: list[str] | None,
    url: list[str] | None, hash: list[str] | None, email: list[str] | None, tlp: str | None,
) -> str:  # fmt: skip
    incident = await _changeable(ctx, id)
    name = ShortId.INC.of(id)
    level = tlp or incident.tlp
    if stricter(level, incident.tlp) != level:
        raise CommandError(
            _("an indicator of {id} is labelled {label} or stricter").format(
                id=name, label=label(incident.tlp)
            )
        )
    check_postable(level, ctx)
    given = dict(zip(observables.KINDS, (ip, domain, url, hash, email), strict=True))
    found = [(kind, value) for kind, values in given.items() for value in values or ()]
    if not found:
        raise CommandError(_("name at least one: ip=, domain=, url=, hash= or email="))
    secret = await observables.key(ctx.store.state, ctx.now)
    heard = hearers(ctx.viewer.audience)
    added = []
    for kind, value in found:
        kept = observables.kind_of(kind, value)
        row = await ctx.store.incidents.observe(
            incident, kind=kept, value=value, tlp=level, author=ctx.sender, room_id=ctx.room_id,
            keyed=observables.keyed(secret, kept, value), said_to=heard, now=ctx.now,
        )  # fmt: skip
        if row is not None:
            added.append(row)
    ctx.audit_detail = f"{name} observe {len(added)}"
    await alerts.tell_shared(ctx, incident, [o.keyed for o in added])
    done = _("✅ {id}: {added} of {given} indicators added ({kept} already kept). [{label}]")
    return done.format(
        id=name, added=len(added), given=len(found), kept=len(found) - len(added),
        label=label(level),
    )  # fmt: skip


@router.command(
    "incident share",
    summary="disclose your country's incident, indicators included, to another country",
    roles=CONTRIBUTORS,
    params=[Pos("id", INCIDENT_ID, "<INC-n>"), Opt("with", country, "XX", required=True)],
    example="!incident share INC-12 with=TT",
    details="By the reporting country's NCPOCs or the chair, after the bot said that two "
    "incidents share an indicator, or at any time. The other country's NCPOCs become people "
    "it was said to (as with for=: TLP:RED included), and each gets it in a DM.",
)
async def incident_share(ctx: Context, id: int, with_: Country) -> str:
    incident = await _changeable(ctx, id)
    name = ShortId.INC.of(id)
    people = [e.user_id for e in await ctx.store.roster.ncpocs(with_.code)]
    if not people:
        raise CommandError(
            _("{country} has no NCPOC on the roster to share it with").format(country=with_.name)
        )
    incident.said_to = pack(dict.fromkeys([*unpack(incident.said_to), *people]))
    for row in await ctx.store.incidents.observables(incident):
        row.said_to = pack(dict.fromkeys([*unpack(row.said_to), *people]))
    ctx.audit_detail = f"{name} shared with {with_.code}"
    await alerts.disclose(ctx, incident, people)
    return _("✅ {id} is shared with {country}: {people} may read it in full. [{label}]").format(
        id=name, country=with_.name, people=", ".join(people), label=label(incident.tlp)
    )


@router.listener("incident file", accepts=file_in_reply)
async def incident_file(ctx: Context, said: Input) -> str | None:
    """A file sent in reply to an incident's alert. No file is kept with an incident; for a
    child sexual exploitation case the sender is told at once to take it down: such
    material is for law enforcement, never a chat room."""
    tag = Ref.parse(await ctx.store.outbox.ref_of(said.reply_to or ""))
    if tag is None or tag.kind != RefKind.INCIDENT:
        return None
    incident = await ctx.store.incidents.get(tag.key)
    if incident is None or incident.crime != taxonomy.CHILD_EXPLOITATION:
        return None
    ctx.audit_detail = f"{ShortId.INC.of(incident.number)} file refused"
    return _(
        "⛔ Not kept: no file is attached to a child sexual exploitation case ({id}). Delete "
        "your message now (everyone in this room can open it until you do) and hand the "
        "material to your country's 24/7 law-enforcement contact."
    ).format(id=ShortId.INC.of(incident.number))


@router.command(
    "incident edit",
    summary="correct an incident's title, sectors, countries, severity or label (kept as history)",
    roles=CONTRIBUTORS,
    params=[
        Pos("id", INCIDENT_ID, "<INC-n>"),
        Opt("title", word, "<new title>", words=60),
        Opt("sectors", csv(_sector), "a,b"),
        Opt("countries", csv(country), "JM,TT"),
        Opt("severity", choice(*SEVERITIES)),
        Opt("tlp", tlp),
        Opt("type", taxonomy.INCIDENT_TYPE),
        Opt("crime", choice(*taxonomy.CRIMES)),
        Opt("mo", word, "<how it was done>", words=200),
    ],
    example="!incident edit INC-12 title=Phishing wave against two banks countries=JM,TT",
    details="By its reporting country's NCPOCs or the chair, where it may be posted. Each "
    "change is kept with its value before (`!incident show` lists them). The label may only "
    "go up, unless the original poster lowers it. A multi-word title ends at the next option. "
    "type= is the incident's type in the Reference Security Incident Taxonomy (`phishing`, "
    "`ddos`, … as MISP's rsit), crime= its link to other crime, mo= how it was done.",
)
async def incident_edit(
    ctx: Context,
    id: int,
    title: str | None,
    sectors: list[str] | None,
    countries: list[Country] | None,
    severity: str | None,
    tlp: str | None,
    type: str | None,
    crime: str | None,
    mo: str | None,
) -> str:
    incident = await _changeable(ctx, id)
    name = ShortId.INC.of(id)
    if title is not None and len(title) > MAX_TITLE:
        raise CommandError(
            _("the title is too long (at most {MAX_TITLE} characters)").format(MAX_TITLE=MAX_TITLE)
        )
    if tlp is not None:
        check_label(ctx, incident.reporter, incident.tlp, tlp, name)
    incident.updated_at = ctx.now
    done = await corrected(
        ctx, "incident", name, id, incident,
        {
            "title": title,
            "sectors": pack(sectors) if sectors else None,
            "countries": pack(c.code for c in countries) if countries else None,
            "severity": severity,
            "tlp": tlp,
            "rsit": type,
            "crime": crime,
            "modus": mo[:MAX_NOTE] if mo else None,
        },
    )  # fmt: skip
    await keep_current(ctx, incident)  # a label raised: the room that may not see it now
    return done  # sees the header say less (or nothing, left as it was)


@router.command(
    "incident close",
    summary="close an incident with a summary",
    roles=CONTRIBUTORS,
    params=[Pos("id", INCIDENT_ID, "<INC-n>"), Text("summary", "summary")],
    example="!incident close INC-12 Domains taken down, no customer losses confirmed",
)
async def incident_close(ctx: Context, id: int, summary: str) -> str:
    incident = await _changeable(ctx, id)
    if incident.status == "closed":
        closed = i18n.when(
            incident.closed_at or incident.updated_at, ctx.env.zone, "%-d %b %Y %H:%M"
        )
        raise CommandError(
            _("{id} is already closed (since {closed})").format(
                id=ShortId.INC.of(id), closed=closed
            )
        )
    if len(summary) > MAX_NOTE:
        raise CommandError(
            _("the summary is too long (at most {MAX_NOTE} characters)").format(MAX_NOTE=MAX_NOTE)
        )
    await ctx.store.incidents.update(
        incident,
        kind="closed",
        note=summary,
        status="closed",
        severity=None,
        author=ctx.sender,
        room_id=ctx.room_id,
        event_id=ctx.event_id,
        now=ctx.now,
    )
    ctx.audit_detail = f"{ShortId.INC.of(id)} closed"
    await keep_current(ctx, incident)
    return _("✅ {id} closed. [{label}]").format(id=ShortId.INC.of(id), label=label(incident.tlp))


@router.command(
    "incident list",
    summary="incidents, newest first (open ones unless you say all)",
    roles=READERS,
    params=[
        Pos("which", choice("open", "all"), "open|all", optional=True),
        Opt("country", country, "XX"),
        Opt("severity", choice(*SEVERITIES)),
    ],
    example="!incident list all country=JM",
    details="Filters match only incidents this room may see in full; the others are listed "
    "with their ID and label (by `!incident list all`) or counted.",
)
async def incident_list(
    ctx: Context, which: str | None, country: Country | None, severity: str | None
) -> View:
    full = ctx.viewer.audience.in_full()
    found = await ctx.store.incidents.find(
        in_full=full,
        open_only=which != "all",
        country=country.code if country else None,
        severity=severity,
    )
    filtered = which != "all" or country is not None or severity is not None
    withheld = [] if filtered else await ctx.store.incidents.withheld(in_full=full)
    # Each row goes where what this reader sees of it fits: in full, or as its label (and
    # title) only; never a label-only row through the lines of a full one.
    seen = [_summary(ctx, i) for i in found]
    named = [r for r in (_summary(ctx, i) for i in withheld) if r["shown"] != "nothing"]
    rows = [r for r in seen if r["shown"] == "full"]
    partial = [r for r in seen + named if r["shown"] in ("label", "title")]
    hidden = await ctx.store.incidents.count_withheld(in_full=full) - len(named)
    return listing(
        ctx, "incidents/list", rows, hidden=hidden, partial=partial, which=which or "open"
    )


@router.command(
    "incident show",
    summary="one incident in full, with its history",
    roles=READERS,
    params=[Pos("id", INCIDENT_ID, "<INC-n>")],
    example="!incident show INC-12",
)
async def incident_show(ctx: Context, id: int) -> View | str:
    incident = await _incident(ctx, id)
    data = _summary(ctx, incident)
    history = await ctx.store.incidents.history(incident) if data["shown"] == "full" else []
    data["history"] = [
        {
            "kind": h.kind,
            "note": h.note,
            "status": h.status,
            "severity": h.severity,
            "author": h.author,
            "at": h.at,
        }
        for h in history
    ]
    full = data["shown"] == "full"
    data["corrections"] = await ctx.store.corrections.of("incident", id) if full else []
    data["observables"], data["withheld"] = await _observables(ctx, incident) if full else ([], 0)
    return View("incidents/show", data | carried(ctx))


async def _observables(ctx: Context, incident: Incident) -> tuple[list[dict], int]:
    """The indicators this room may read, and how many it may not. Those of a child
    exploitation case only where the reporting country's own people (its NCPOCs and 24/7
    law-enforcement contacts) alone read."""
    rows = await ctx.store.incidents.observables(incident)
    if incident.crime == taxonomy.CHILD_EXPLOITATION and not await alerts.own_people_only(
        ctx, incident
    ):
        return [], len(rows)
    shown = [
        {"kind": o.kind, "value": observables.defanged(o.kind, o.value), "label": label(o.tlp)}
        for o in rows
        if ctx.viewer.in_full(o.tlp, o.origin_room, heard_by(o))
    ]
    return shown, len(rows) - len(shown)


async def keep_current(ctx: Context, incident: Incident) -> None:
    """The incident's alert, where it was reported, edited in place to show it as it stands
    now (severity, title, status), as that room's readers may see it: the room's timeline
    keeps one current header, its thread the story."""
    room = incident.origin_room
    sent = await ctx.store.outbox.first_sent(str(Ref(RefKind.INCIDENT, incident.number)), room)
    if sent is None or not sent.event_id:
        return
    viewer = Viewer(await ctx.audience_of(room))
    data = alerts.shown(viewer, incident, ctx.env.reference, ctx.now)
    if data["shown"] == "nothing":
        return
    await ctx.reply(
        View("incidents/header", data | carried_by(viewer)), room_id=room,
        edits=sent.event_id, seal=viewer.seal(), ref=Ref(RefKind.INCIDENT, incident.number),
    )  # fmt: skip


def _summary(ctx: Context, incident: Incident) -> dict:
    """What this room may see of an incident: all, its title, or its ID, severity and label."""
    return alerts.shown(ctx.viewer, incident, ctx.env.reference, ctx.now)


from commands.incidents import export  # noqa: E402  (its router is this family's second)

routers = (router, export.router)
