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
from typing import Any

from commands.audience import Audience, Show, Viewer, heard_by
from commands.context import Context
from commands.framework import Role, View
from commands.reference import Reference
from commands.tlp import carried_by, label
from commands.values import Clearance, RoomKind, ShortId
from storage.incidents import Incident
from storage.lists import unpack

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
    label (with who to ask); recorded on the viewer, which seals the output."""
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
        )
    return data


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
