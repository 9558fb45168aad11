"""Incidents that ring: who a new incident concerns, and what each of them is told.

A high or critical incident, or one naming `countries=`, concerns the NCPOCs of those
countries (every NCPOC when none is named) and the chair. It reaches them as an alert
(`m.text` with `m.mentions`), which notifies them; a reply to a command stays a notice.

Reported anywhere but the RCC room (a DM above all, where AMBER and RED belong), the incident
is also said in the RCC room — its ID, severity, label and reporting country always, its
title only as the room's readers may see it (for TLP:RED: "ask @reporter") — and each person
concerned gets a DM showing what that DM may show. Every message is shaped by the audience
rule for the people who will read it (`commands.audience`), and sealed with it, so the sender
refuses any that would show more than its readers may see.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from commands import taxonomy
from commands.audience import Audience, Show, Viewer, heard_by, needs
from commands.context import Context
from commands.framework import Role, View
from commands.i18n import Deferred, _
from commands.reference import Reference
from commands.tlp import carried_by, label
from commands.values import CHROME, Clearance, RoomKind, Seal, ShortId
from storage.incidents import Incident
from storage.lists import unpack
from storage.roster import RosterEntry

RINGS = ("high", "critical")  # severities that alert without countries=


def rings(incident: Incident) -> bool:
    """Whether a new incident alerts the people it concerns."""
    return incident.severity in RINGS or bool(unpack(incident.countries))


async def concerned(ctx: Context, incident: Incident) -> list[str]:
    """The NCPOCs of the countries it names (all NCPOCs when it names none) and the chair,
    the person who reported it aside."""
    named = unpack(incident.countries)
    ncpocs = await (ctx.store.roster.ncpocs_in(named) if named else ctx.store.roster.ncpocs())
    chairs = [e for e in await ctx.store.roster.entries() if e.role == Role.CHAIR]
    people = dict.fromkeys(e.user_id for e in [*ncpocs, *chairs])
    people.pop(ctx.sender, None)
    return list(people)


def shown(viewer: Viewer, incident: Incident, reference: Reference, now: datetime) -> dict:
    """What one audience may see of an incident: all, its title, or its ID, severity and
    label (with its reporter and country, whom to ask); recorded on the viewer, which seals
    the output. Every output of an incident is shaped here."""
    seen = viewer.sees(incident.tlp, incident.origin_room, heard_by(incident))
    data: dict[str, Any] = {
        "id": ShortId.INC.of(incident.number),
        "label": label(incident.tlp),
        "shown": seen.name.lower(),
        "now": now,
    }
    if seen >= Show.LABEL:
        data.update(
            severity=incident.severity,
            tlp=incident.tlp,
            country=reference.countries.name_of(incident.reporter_country, ""),
            reporter=incident.reporter,
        )
    if seen >= Show.TITLE:
        data.update(title=incident.title)
    if seen == Show.FULL:
        data.update(
            status=incident.status,
            sectors=unpack(incident.sectors),
            countries=unpack(incident.countries),
            created=incident.created_at,
            type=taxonomy.type_label(incident.rsit),
            crime=taxonomy.crime_label(incident.crime),
            modus=incident.modus or "",
        )
    return data


async def ring(ctx: Context, incident: Incident) -> dict[str, Any]:
    """A new incident's alerts: who the answer mentions (in the RCC room), or, reported
    elsewhere, who was told directly (`told`)."""
    people = await concerned(ctx, incident) if rings(incident) else []
    rcc = ctx.rooms.get(RoomKind.RCC)
    here = ctx.room_id == rcc if rcc is not None else ctx.room_kind == RoomKind.RCC
    if not here:  # a DM, say: the region hears of it too (the people concerned, at least)
        told = await ring_elsewhere(ctx, incident, people)
        return {"told": told, "rcc_told": rcc is not None, "mentions": []}
    return {"mentions": people}


async def ring_elsewhere(ctx: Context, incident: Incident, people: list[str]) -> list[str]:
    """An incident reported outside the RCC room: a line there (ringing `people` when the
    incident rings), and a DM to each of them. Returns who was sent a DM."""
    rcc = ctx.rooms.get(RoomKind.RCC)
    ringing = rings(incident)
    if rcc is not None:
        room = Viewer(await ctx.audience_of(rcc))
        line = shown(room, incident, ctx.env.reference, ctx.now)
        if line["shown"] != "nothing":  # a room that may not even see its ID hears nothing
            line |= {"mentions": people, "where": "rcc"} | carried_by(room)
            await ctx.reply(
                View("incidents/alert", line), room_id=rcc, mentions=people, alert=ringing,
                seal=room.seal(),
            )  # fmt: skip
    if not ringing:
        return []
    chairs = {e.user_id for e in await ctx.store.roster.entries() if e.role == Role.CHAIR}
    for person in people:
        dm = Viewer(direct(person, Clearance.CHAIR if person in chairs else Clearance.RCC))
        data = shown(dm, incident, ctx.env.reference, ctx.now)
        if data["shown"] == "nothing":
            continue
        await ctx.reply(
            View("incidents/alert", data | {"mentions": [], "where": "dm"} | carried_by(dm)),
            to_user=person, mentions=[person], alert=True, seal=dm.seal(),
        )  # fmt: skip
    return people


def direct(person: str, clearance: Clearance) -> Audience:
    """A DM between the bot and one roster member, as the audience rule reads it; should the
    DM turn out otherwise when the message is sent, the sender refuses it (and says so)."""
    return Audience(
        clearance, members=frozenset({person}), listed=frozenset({person}), closed=True,
        history_shared=False,
    )  # fmt: skip


async def ask_chairs(ctx: Context, incident: Incident, why: str) -> list[str]:
    """`!incident escalate`: each chair gets a DM that rings, showing the incident as the
    chair's DM may, with the reason only where the incident itself is shown in full (the
    reason speaks of it, under its label). Returns the chairs asked."""
    chairs = [e.user_id for e in await ctx.store.roster.entries() if e.role == Role.CHAIR]
    for chair in chairs:
        dm = Viewer(direct(chair, Clearance.CHAIR))
        data = shown(dm, incident, ctx.env.reference, ctx.now)
        if data["shown"] == "nothing":
            continue
        data |= {
            "why": why if data["shown"] == "full" else "",
            "by": ctx.sender,
            "command": f"{ctx.config.committee.command_prefix}broadcast from={data['id']}",
        }
        await ctx.reply(
            View("incidents/escalated", data | carried_by(dm)), to_user=chair, mentions=[chair],
            alert=True, seal=dm.seal(),
        )  # fmt: skip
    return chairs


async def tell_shared(ctx: Context, incident: Incident, keyed: list[str]) -> None:
    """Incidents of other countries with one of these indicators: the NCPOCs of both
    reporting countries are told, once per pair, that the two share an indicator — its
    value, the other's title and label never; each may disclose theirs with
    `!incident share`."""
    prefix = ctx.config.committee.command_prefix
    countries = ctx.env.reference.countries
    for other in await ctx.store.incidents.sharing(incident, keyed):
        if not await ctx.store.incidents.link(incident, other, now=ctx.now):
            continue
        pair = [(incident, other), (other, incident)]
        ctx.audit_detail += f"; {ShortId.INC.of(incident.number)} ~ {ShortId.INC.of(other.number)}"
        for mine, theirs in pair:
            if mine.reporter_country is None:
                told = [mine.reporter]  # reported by someone of no country: them alone
            else:
                told = [e.user_id for e in await ctx.store.roster.ncpocs(mine.reporter_country)]
            words = Deferred(
                partial(
                    _shared_words,
                    ShortId.INC.of(mine.number),
                    countries.name_of(mine.reporter_country, mine.reporter),
                    ShortId.INC.of(theirs.number),
                    countries.name_of(theirs.reporter_country, theirs.reporter),
                    f"{prefix}incident share {ShortId.INC.of(mine.number)} "
                    f"with={theirs.reporter_country or theirs.reporter}",
                )
            )
            for person in told:  # each incident's ID and country: what a label shows
                await ctx.reply(words, to_user=person, mentions=[person], alert=True,
                                seal=_labels_of(incident, other))  # fmt: skip
        await _tell_rifc(ctx, incident, other)


def _labels_of(*incidents: Incident) -> Seal:
    """The seal of words naming incidents by ID and country only (no title, no value):
    what their labels let a reader see, and no more."""
    return Seal("clear", max(needs(i.tlp, Show.LABEL) for i in incidents))


async def _tell_rifc(ctx: Context, a: Incident, b: Incident) -> None:
    """The RIFC hears of a link only where it may read both incidents in full."""
    if not all(needs(i.tlp, Show.FULL) <= Clearance.STEERING for i in (a, b)):
        return
    countries = ctx.env.reference.countries
    a, b = sorted((a, b), key=lambda i: i.number)
    words = Deferred(
        partial(
            _linked_words, ShortId.INC.of(a.number), countries.name_of(a.reporter_country),
            ShortId.INC.of(b.number), countries.name_of(b.reporter_country),
        )
    )  # fmt: skip
    for entry in await ctx.store.roster.entries():
        if entry.role == Role.RIFC:
            person = entry.user_id
            await ctx.reply(words, to_user=person, mentions=[person], alert=True,
                            seal=_labels_of(a, b))  # fmt: skip


def _linked_words(a: str, home: str, b: str, where: str) -> str:
    return _("🔗 {a} ({home}) and {b} ({where}) share an indicator: !incident show {a}").format(
        a=a, home=home, b=b, where=where
    )


def _shared_words(mine: str, home: str, theirs: str, where: str, command: str) -> str:
    return _(
        "🔗 {mine} ({home}) and {theirs} ({where}) share an indicator. Neither incident's "
        "indicators nor its title are shown to the other country. To disclose yours to "
        "{where}: {command}"
    ).format(mine=mine, home=home, theirs=theirs, where=where, command=command)


async def own_people(ctx: Context, incident: Incident) -> set[str]:
    """The reporting country's NCPOCs and 24/7 law-enforcement contacts."""
    if incident.reporter_country is None:
        return {incident.reporter}
    national = await ctx.store.roster.national(incident.reporter_country)
    ncpocs = {e.user_id for e in national if e.role == Role.NCPOC}
    return ncpocs | set(_law_enforcement(national))


def _law_enforcement(national: list[RosterEntry]) -> list[str]:
    """A country's 24/7 law-enforcement contacts, of its national entries."""
    return [e.user_id for e in national if e.role == Role.CONTACT and e.kind == "le-24x7"]


async def own_people_only(ctx: Context, incident: Incident) -> bool:
    """Whether only the reporting country's own people read this room."""
    members = ctx.viewer.audience.members
    return bool(members) and members is not None and members <= await own_people(ctx, incident)


async def disclose(ctx: Context, incident: Incident, people: list[str]) -> None:
    """`!incident share`: each person now told gets it in a DM, as that DM may show it."""
    for person in people:
        dm = Viewer(direct(person, Clearance.RCC))
        data = shown(dm, incident, ctx.env.reference, ctx.now)
        if data["shown"] == "nothing":
            continue
        data |= {"mentions": [], "where": "shared"} | carried_by(dm)
        await ctx.reply(
            View("incidents/alert", data), to_user=person, mentions=[person], alert=True,
            seal=dm.seal(),
        )  # fmt: skip


async def tell_law_enforcement(ctx: Context, incident: Incident) -> list[str]:
    """A child sexual exploitation case: the reporting country's 24/7 law-enforcement
    contacts are asked to call the NCPOC who reported it. A contact is not on the committee
    and may read none of the record (not its ID, nor its kind): the bot's own words, which
    the gate lets through as they are. Returns who was asked."""
    if incident.reporter_country is None:
        return []
    told = _law_enforcement(await ctx.store.roster.national(incident.reporter_country))
    words = Deferred(partial(_call_words, incident.reporter))
    for person in told:
        await ctx.reply(words, to_user=person, mentions=[person], alert=True, seal=CHROME)
    return told


def _call_words(reporter: str) -> str:
    return _(
        "🚨 Your country's NCPOC {reporter} reported a case to the Regional Cyber Committee "
        "that needs your country's 24/7 law-enforcement contact now: call {reporter}."
    ).format(reporter=reporter)
