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

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from commands import directory
from commands.audience import PRIVATE
from commands.context import Context, JobContext
from commands.deadlines import DeadlinesConfig, DueInput, due, resolve_due, when
from commands.directory import (
    ContactsConfig,
    email_only,
    kind_title,
    ranked,
    shown,
    unconfirmed,
    unreachable,
)
from commands.framework import (
    NATIONAL,
    READERS,
    CommandError,
    Opt,
    ParseEnv,
    Parser,
    Pos,
    Refused,
    Role,
    Router,
    View,
)
from commands.i18n import N_, Deferred, _
from commands.languages import language
from commands.reference import Country
from commands.sections import Sections
from commands.tlp import carried
from commands.types import choice, country, user_id
from commands.values import CHROME, Clearance, RoomKind
from storage.roster import RosterEntry
from storage.stores import Stores

router = Router("contacts", topic=N_("national contacts and their details"))


@router.command(
    "contacts",
    summary="the national contacts of every country (or one): NCPOCs, CIRTs, 24/7 contacts",
    roles=READERS | {Role.ADMIN},
    params=[Pos("country", country, "XX", optional=True, words=4)],
    example="!contacts TT",
    details="Shows each contact's kind, agency and title, and when they last confirmed their "
    "details; contacts the bot cannot reach (no direct chat yet and no email) are marked. "
    "Phone numbers and email addresses are shown to the chair alone, in a direct message.",
)
async def contacts(ctx: Context, country: Country | None) -> View:
    entries = await ctx.store.roster.national(country.code if country else None)
    private = ctx.viewer.audience.clearance >= Clearance.CHAIR  # the chair's eyes alone
    if private:
        ctx.viewer.private()
    direct = await ctx.store.rooms.direct_rooms()
    tiers = ranked(entries)
    by_code: dict[str, list[dict]] = {}
    for e in entries:
        by_code.setdefault(e.country or "", []).append(
            _directory_row(ctx, e, tiers[e.id], private, direct)
        )
    listed = [country] if country else list(ctx.env.reference.countries)
    countries: list[dict[str, Any]] = [
        {"code": c.code, "name": c.name, "people": by_code.get(c.code, [])} for c in listed
    ]
    if country is None:
        countries = [c for c in countries if c["people"]]
        if not countries:
            raise CommandError(_("no national contact is on the roster yet"))
    return View(
        "roster/contacts",
        {
            "countries": countries,
            "private": private,
            "unconfirmed": sum(1 for c in countries for p in c["people"] if p["stale"]),
            "unreachable": sum(1 for c in countries for p in c["people"] if p["unreachable"]),
        }
        | carried(ctx),
    )


def _directory_row(
    ctx: Context, e: RosterEntry, kind: str, private: bool, direct: dict[str, str]
) -> dict[str, Any]:
    """One person of the directory as `!contacts` shows them: phone and email only when
    `private` (the chair reads alone)."""
    zone = ctx.env.zone
    return {
        "user": shown(e.user_id, private),
        "role": "NCPOC" if e.role == Role.NCPOC else "contact",
        "kind": kind,
        "kind_title": kind_title(kind),
        "agency": e.agency,
        "title": e.title,
        "lang": e.lang,
        "email": e.email if private else None,
        "phone": e.phone if private else None,
        "has_email": bool(e.email),
        "has_phone": bool(e.phone),
        "confirmed": e.confirmed_at.astimezone(zone).date().isoformat()
        if e.confirmed_at
        else None,
        "stale": unconfirmed(e, ctx.config[ContactsConfig].confirm_every, ctx.now),
        "unreachable": unreachable(e, direct, ctx.joined),
        "away": e.away_until.astimezone(zone).date().isoformat()
        if e.away_until and e.away_until > ctx.now
        else None,
    }


# Absence


@router.command(
    "away",
    summary="send your reminders and broadcasts to a colleague until a date (or: away off)",
    roles=NATIONAL,
    params=[
        Pos("word", choice("until", "off"), "until|off"),
        Pos("date", due, "<date>", optional=True, words=4),
        Opt("to", user_id, "@user"),
    ],
    example="!away until 2026-12-28 to=@tt2:example.org",
    details="By default your country's other NCPOC stands in (for a contact: the primary "
    "NCPOC). A date without a time means from the start of that day you are back. The "
    "escalation chain skips you meanwhile.",
)
async def away(ctx: Context, word: str, date: DueInput | None, to: str | None) -> str:
    mine = await ctx.store.roster.national_of(ctx.sender)
    if not mine:
        raise CommandError(_("only NCPOCs and national contacts have reminders to hand over"))
    if word == "off":
        if date is not None or to is not None:
            raise CommandError(_("!away off takes nothing more"))
        await ctx.store.roster.set_away(ctx.sender, None, None)
        ctx.audit_detail = "back"
        return _("✅ Welcome back: your reminders and broadcasts come to you again.")
    if date is None:
        raise CommandError(_("say until when: !away until 2026-12-28"))
    until = resolve_due(
        date, ctx.env.zone, ctx.config.replaced(DeadlinesConfig(default_time="00:00"))
    )
    if until <= ctx.now:
        raise CommandError(_("{when} has already passed").format(when=when(until, ctx.env.zone)))
    country = mine[0].country
    name = ctx.env.reference.countries.name_of(country, "your country")
    national = await ctx.store.roster.national(country)
    colleagues = [e for e in national if e.user_id != ctx.sender]
    if to is None:
        ranks = ranked(national)
        ncpocs = [e for e in colleagues if e.role == Role.NCPOC]
        ncpocs.sort(key=lambda e: ranks[e.id] != "primary")
        if not ncpocs:
            raise CommandError(
                _("{name} has no other NCPOC: name one with to=@user").format(name=name)
            )
        to = ncpocs[0].user_id
    elif to == ctx.sender:
        raise CommandError(_("name a colleague, not yourself"))
    elif to not in {e.user_id for e in colleagues}:
        raise CommandError(_("{to} is not a national contact of {name}").format(to=to, name=name))
    standing = next(e for e in colleagues if e.user_id == to)
    if standing.away_until is not None and standing.away_until > ctx.now:
        raise CommandError(
            _("{to} is away too, until {when}").format(
                to=to, when=when(standing.away_until, ctx.env.zone)
            )
        )
    await ctx.store.roster.set_away(ctx.sender, until, to)
    ctx.audit_detail = f"away until {until:%Y-%m-%d %H:%M}Z, to {to}"
    return _(
        "✅ Until {when} your reminders and broadcasts go to {to}. Back earlier? {prefix}away off"
    ).format(when=when(until, ctx.env.zone), to=to, prefix=ctx.config.committee.command_prefix)


# Keeping the directory true


UPDATABLE = ("agency", "title", "email", "phone", "lang")
CLEARED = ("none", "-")


def _or_none(parse: Parser) -> Parser:
    """A detail, or "" for `none` (cleared)."""

    def parse_or_clear(text: str, env: ParseEnv) -> str:
        return "" if text.strip().casefold() in CLEARED else parse(text, env)

    return parse_or_clear


@router.command(
    "confirm",
    summary="confirm that your contact details are still right",
    roles=NATIONAL,
    example="!confirm",
    details="The bot asks every national contact to do this periodically; correct anything "
    "that changed with !contact update first.",
)
async def confirm(ctx: Context) -> View:
    entries = await ctx.store.roster.update_details(ctx.sender, {}, confirmed=ctx.now)
    if not entries:
        raise CommandError(_("you are not in the contact directory"))
    ctx.audit_detail = "confirmed contact details"
    return await _own(ctx, entries, "✅ Thank you: your details are confirmed as they stand.")


@router.command(
    "contact update",
    summary="correct contact details: your own, or (chair, admins) anyone's",
    roles=NATIONAL | {Role.CHAIR, Role.ADMIN},
    params=[
        Pos("user", directory.contact_id, "@user|email", optional=True),
        Opt("agency", _or_none(directory.text), "..", words=6),
        Opt("title", _or_none(directory.text), "..", words=6),
        Opt("email", _or_none(directory.email), "address|none"),
        Opt("phone", _or_none(directory.phone), "+E164|none", words=5),
        Opt("lang", language),
    ],
    example="!contact update phone=+18685550123 email=duty@example.gov",
    details="`none` clears a field. Your own update also confirms your details.",
)
async def contact_update(
    ctx: Context,
    user: str | None,
    agency: str | None,
    title: str | None,
    email: str | None,
    phone: str | None,
    lang: str | None,
) -> View:
    typed = {"agency": agency, "title": title, "email": email, "phone": phone, "lang": lang}
    given = {k: v or None for k, v in typed.items() if v is not None}
    if not given:
        raise CommandError(
            _("say what changes: {options}").format(
                options=", ".join(f"{k}=.." for k in UPDATABLE)
            )
        )
    target = user or ctx.sender
    if target != ctx.sender and not ctx.has_role(Role.CHAIR, Role.ADMIN):
        raise Refused(
            _("you may change your own details only; the chair and admins change others'")
        )
    # A contact without a Matrix account confirms through whoever updates their entry.
    confirms = target == ctx.sender or email_only(target)
    before = await ctx.store.roster.national_of(target)
    was = {k: getattr(before[0], k) for k in given} if before else {}
    entries = await ctx.store.roster.update_details(
        target,
        given,
        confirmed=ctx.now if confirms else None,
        changed_by=None if target == ctx.sender else ctx.sender,
        now=ctx.now,
    )
    if not entries:
        raise CommandError(
            _("{shown} is not in the contact directory").format(shown=shown(target))
        )
    ctx.audit_detail = f"{target}: " + ", ".join(sorted(given))
    if target != ctx.sender:
        await _tell_of_change(ctx, target, was, given)
    head = (
        "✅ Updated and confirmed."
        if target == ctx.sender
        else f"✅ Updated {shown(target, ctx.is_direct)}'s details"
        + (" (and confirmed)." if confirms else ".")
    )
    return await _own(ctx, entries, head)


async def _tell_of_change(
    ctx: Context, target: str, was: dict[str, Any], given: dict[str, Any]
) -> None:
    """Details changed by someone else: the person is told in their DM, with the values
    before and after (an attacker's number would otherwise take their call-outs unseen), and
    the RCC room that they changed, without the values."""
    changes = [
        {"field": k, "before": was.get(k), "after": v} for k, v in given.items() if was.get(k) != v
    ]
    if not changes:
        return
    if not email_only(target):
        # Their own details, to them alone (the sender checks their DM is theirs alone).
        data: dict[str, Any] = {"by": ctx.sender, "changes": changes, "carried": None}
        data["prefix"] = ctx.config.committee.command_prefix
        await ctx.reply(
            View("roster/changed", data), to_user=target, mentions=[target], alert=True,
            seal=CHROME,
        )  # fmt: skip
    rcc = ctx.rooms.get(RoomKind.RCC)
    if rcc is not None:
        fields = ", ".join(c["field"] for c in changes)
        await ctx.reply(
            _("📇 {user}'s contact details were changed by {by} ({fields}).").format(
                user=shown(target), by=ctx.sender, fields=fields
            ),
            room_id=rcc,
            seal=CHROME,  # that they changed, never to what
        )


async def _own(ctx: Context, entries: list, head: str) -> View:
    """Someone's details as they now stand: their phone and email to themselves, or to the
    chair, in a DM; elsewhere only whether there are any."""
    e = entries[0]
    kind = ranked(await ctx.store.roster.national(e.country))[e.id]
    audience = ctx.viewer.audience
    if e.user_id == ctx.sender:  # their own: read by them alone
        private = audience.closed and audience.members == {ctx.sender}
    else:  # someone else's: by the chair alone
        private = audience.clearance >= Clearance.CHAIR
        if private:
            ctx.viewer.private()
    return View(
        "roster/details",
        {
            "head": head,
            "user": shown(e.user_id, private),
            "kind": kind_title(kind),
            "agency": e.agency,
            "title": e.title,
            "email": e.email,
            "phone": e.phone,
            "lang": e.lang,
            "private": private,
        }
        | carried(ctx),
    )


# Re-confirmation, as trusted CSIRT directories ask of their teams

CONFIRM_JOB = "contact confirmation"
ASKED, NCPOC_TOLD, CHAIR_TOLD = "asked", "ncpoc", "chair"
LOOK_AGAIN = timedelta(days=1)  # entries added meanwhile are picked up within a day


async def _always(_store: Stores, _config: Sections, _now: datetime) -> list[int]:
    return [0]


@router.job(CONFIRM_JOB, pending=_always, summary="contacts asked to re-confirm their details")
async def confirm_contacts(job: JobContext, _key: int) -> datetime | None:
    """Every `confirm_every` each national contact is asked to confirm or correct their
    details; no answer within `confirm_grace` goes to their country's NCPOC, and after
    another to the chair. Each step once per cycle (a cycle is named by when it fell due)."""
    entries = await job.store.roster.national()
    logged = await job.store.roster.checks()
    every, grace = (
        job.config[ContactsConfig].confirm_every,
        job.config[ContactsConfig].confirm_grace,
    )
    ranks = ranked(entries)
    people: dict[str, RosterEntry] = {}
    for e in entries:
        people.setdefault(e.user_id, e)
    later = [job.now + LOOK_AGAIN]
    for_chair: list[dict] = []
    for user, e in people.items():
        due_at = (e.confirmed_at or e.added_at) + every
        for stage, at in (
            (ASKED, due_at),
            (NCPOC_TOLD, due_at + grace),
            (CHAIR_TOLD, due_at + grace * 2),
        ):
            if (user, due_at, stage) in logged:
                continue
            if job.now < at:
                later.append(at)
                break
            since = _date(job, due_at - every)
            if stage == CHAIR_TOLD:
                for_chair.append({"user": user, "country": e.country, "since": since})
            else:
                await _ask(job, stage, e, entries, ranks, since)
            await job.store.roster.log_check(user, due_at, stage, at=job.now)
    await _weekly(job, entries, ranks)
    if for_chair:
        summary = partial(_unconfirmed, for_chair, job.config.committee.command_prefix)
        for chair in await job.chairs():
            await job.post(Deferred(summary), to_user=chair, mentions=[chair], seal=PRIVATE)
    return min(later)


async def _ask(
    job: JobContext,
    stage: str,
    e: RosterEntry,
    entries: list[RosterEntry],
    ranks: dict[Any, str],
    since: str,
) -> None:
    """A contact asked to confirm their own details (to them alone), or their NCPOC told
    that they have not (never naming an email-only contact's address)."""
    user = e.user_id
    if stage == ASKED:
        if not email_only(user):  # else: their NCPOC hears next
            await job.post(
                _asking(job, e, ranks[e.id]), to_user=user, mentions=[user], seal=CHROME
            )
        return
    told = _ncpoc_of(entries, ranks, e)
    if told is not None:
        prefix = job.config.committee.command_prefix
        asked = partial(_unanswered, shown(user), kind_title(ranks[e.id]), since, prefix)
        await job.post(Deferred(asked), to_user=told, mentions=[told], seal=CHROME)


WEEKLY = "contacts weekly summary"  # bot state: the ISO week last summarised


async def _weekly(job: JobContext, entries: list[RosterEntry], ranks: dict) -> None:
    """Once a week, the chair's summary of contacts not confirmed within the cycle and of
    those the bot cannot reach (no direct chat, no email), when there are any. The first
    comes in the week after the bot first ran: a new deployment is given time to open DMs."""
    year, week, _day = job.now.astimezone(job.env.zone).isocalendar()
    this_week = f"{year}-W{week:02d}"
    last = await job.store.state.get(WEEKLY)
    if last == this_week:
        return
    await job.store.state.set(WEEKLY, this_week, now=job.now)
    if last is None:
        return
    direct = await job.store.rooms.direct_rooms()
    every = job.config[ContactsConfig].confirm_every
    stale, cut_off = [], []
    for e in entries:
        who = f"{e.user_id} ({e.country}, {kind_title(ranks[e.id])})"
        if unconfirmed(e, every, job.now):
            stale.append(who)
        if unreachable(e, direct, job.joined):
            cut_off.append(who)
    if not stale and not cut_off:
        return
    lines = [f"📇 The contact directory this week ({this_week}):"]
    if stale:
        lines.append(f"Not confirmed within the cycle ({len(stale)}): " + "; ".join(stale))
    if cut_off:
        lines.append(
            f"Unreachable — no email, and no direct chat with the bot they joined "
            f"({len(cut_off)}): " + "; ".join(cut_off)
        )
    lines.append(f"Details: {job.config.committee.command_prefix}contacts")
    for chair in await job.chairs():
        await job.post("\n".join(lines), to_user=chair, mentions=[chair], seal=PRIVATE)


def _asking(job: JobContext, e: RosterEntry, kind: str) -> View:
    return View(
        "roster/confirm",
        {
            "user": e.user_id,
            "kind": kind_title(kind),
            "agency": e.agency,
            "title": e.title,
            "email": e.email,
            "phone": e.phone,
            "lang": e.lang,
            "committee": job.config.committee.name,
            "prefix": job.config.committee.command_prefix,
            "grace": job.config[ContactsConfig].confirm_grace.days,
            "carried": None,  # their own details, to them alone
        },
    )


def _ncpoc_of(entries: list[RosterEntry], ranks: dict, e: RosterEntry) -> str | None:
    """Who hears of an unconfirmed contact: the country's primary NCPOC (another one, for an
    NCPOC), or nobody (the chair hears next)."""
    ncpocs = [
        x
        for x in entries
        if x.role == Role.NCPOC and x.country == e.country and x.user_id != e.user_id
    ]
    ncpocs.sort(key=lambda x: ranks[x.id] != "primary")
    return ncpocs[0].user_id if ncpocs else None


def _unanswered(user: str, kind: object, since: str, prefix: str) -> str:
    """To a contact's NCPOC: they did not answer the bot's request (in the NCPOC's words)."""
    return _(
        "📇 {user} ({kind}) has not confirmed their contact details "
        "since {date} and did not answer the bot's request. Please "
        "check with them: they confirm with {prefix}confirm, or "
        "correct with {prefix}contact update."
    ).format(user=user, kind=kind, date=since, prefix=prefix)


def _unconfirmed(people: list[dict], prefix: str) -> str:
    """To the chair: who has not confirmed after two requests."""
    listed = "\n".join(
        _("- {user} ({country}), confirmed last {since}").format(
            user=p["user"], country=p["country"], since=p["since"]
        )
        for p in people
    )
    return _(
        "📇 National contacts who have not confirmed their details "
        "after two requests:\n{listed}\nThe full list: "
        "{prefix}contacts"
    ).format(listed=listed, prefix=prefix)


def _date(job: JobContext, moment: datetime) -> str:
    return moment.astimezone(job.env.zone).date().isoformat()


router.section("contacts", ContactsConfig)
