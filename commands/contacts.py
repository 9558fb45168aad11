"""The contact directory: NCPOCs and the national contacts beside them, and `!contacts`.

Section 4 of the Action Plan has the NCPOCs disseminate to "other points of contact
personnel within their jurisdiction"; 7.5 names national CERTs and the 24/7 points of contact
for electronic evidence. They are roster entries of role `contact`, each of a country and a
kind; NCPOCs are `primary` or `alternate`. Both may carry an agency, a title, an email
address (the broadcast's fallback), a phone number in E.164 (for the chair's call-outs) and a
preferred language. Phone numbers and email addresses are shown only to the chair and admins,
in a direct message.
"""

from __future__ import annotations

from typing import Any

from commands.context import Context
from commands.directory import KIND_TITLES, ranked
from commands.framework import READERS, CommandError, Pos, Role, Router, View
from commands.reference import Country
from commands.types import country

router = Router("contacts")


@router.command(
    "contacts",
    summary="the national contacts of every country (or one): NCPOCs, CIRTs, 24/7 contacts",
    roles=READERS | {Role.ADMIN},
    params=[Pos("country", country, "XX", optional=True, words=4)],
    example="!contacts TT",
    details="Shows each contact's kind, agency and title, and when they last confirmed their "
    "details; contacts the bot cannot reach (no direct chat yet and no email) are marked. "
    "Phone numbers and email addresses are shown to the chair and admins in a direct message.",
)
async def contacts(ctx: Context, country: Country | None) -> View:
    entries = await ctx.store.roster.national(country.code if country else None)
    private = ctx.is_direct and ctx.has_role(Role.CHAIR, Role.ADMIN)
    direct = await ctx.store.rooms.direct_users()
    tiers = ranked(entries)
    by_code: dict[str, list[dict]] = {}
    for e in entries:
        by_code.setdefault(e.country or "", []).append(
            {
                "user": e.user_id,
                "role": "NCPOC" if e.role == Role.NCPOC else "contact",
                "kind": tiers[e.id],
                "kind_title": KIND_TITLES.get(tiers[e.id], tiers[e.id]),
                "agency": e.agency,
                "title": e.title,
                "lang": e.lang,
                "email": e.email if private else None,
                "phone": e.phone if private else None,
                "has_email": bool(e.email),
                "has_phone": bool(e.phone),
                "confirmed": (
                    e.confirmed_at.astimezone(ctx.env.zone).date().isoformat()
                    if e.confirmed_at
                    else None
                ),
                "reachable": e.user_id in direct or bool(e.email),
                "away": e.away_until.astimezone(ctx.env.zone).date().isoformat()
                if e.away_until and e.away_until > ctx.now
                else None,
            }
        )
    listed = [country] if country else list(ctx.env.reference.countries)
    countries: list[dict[str, Any]] = [
        {"code": c.code, "name": c.name, "people": by_code.get(c.code, [])} for c in listed
    ]
    if country is None:
        countries = [c for c in countries if c["people"]]
        if not countries:
            raise CommandError("no national contact is on the roster yet")
    return View(
        "roster/contacts",
        {
            "countries": countries,
            "private": private,
            "unconfirmed": sum(1 for c in countries for p in c["people"] if not p["confirmed"]),
            "unreachable": sum(1 for c in countries for p in c["people"] if not p["reachable"]),
        },
    )
