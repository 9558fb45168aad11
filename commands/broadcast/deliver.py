"""The broadcast job: a DM to every recipient, then escalation, email and the relay chase.

Delivery is idempotent: a recipient's DM is written to the outbox in the same unit of work
that records it on the recipient row, so a run that comes again (after a crash, or woken
twice) skips whoever already has one. A country counts as answered when any of its recipients
acknowledged. For the countries still dark, each step of the escalation chain
(`escalation`) alerts its tiers once, logged with its messages; steps missed while
the bot was down go out together, once. After `email_after`, recipients of dark countries who
have an email address are emailed once (the text itself only up to TLP:GREEN). A country that
answered but has not confirmed onward dissemination within `relay_within` is asked once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from commands.audience import PRIVATE, Audience, Viewer, sealed, strictest
from commands.broadcast.escalation import Step, next_step, steps_due
from commands.broadcast.rollcall import drill_report, roll_call
from commands.broadcast.send import JOB, BroadcastConfig, announcement, copy_seal, email_after, ref
from commands.context import JobContext
from commands.directory import TIER_ORDER, email_only, kind_title, ranked
from commands.framework import FileSpec, ForPerson, Router, View
from commands.sections import Sections
from commands.tlp import carried_by, label
from commands.values import CHROME, Clearance, Seal, ShortId
from storage.broadcasts import Broadcast, BroadcastRecipient
from storage.stores import Stores

router = Router("broadcast delivery")

STEP_DONE = ""  # the recipient of a step's marker row in broadcast_notice
CHASE = 0  # the round of the relay chase (steps are 1-based)
REPORT = -1  # the round of a drill's report to the chair
EMAIL_TEXT_UP_TO = ("clear", "green")  # labels whose text an email may carry
CHANGED_RECENTLY = timedelta(days=7)  # a number changed by someone else is marked this long


def horizon(config: Sections) -> timedelta:
    """How long after it was sent a broadcast may still have something to do."""
    last = max((s.after for s in config[BroadcastConfig].chain()), default=timedelta(0))
    return max(last, email_after(config) or timedelta(0)) + config[BroadcastConfig].relay_within


async def unfinished(store: Stores, config: Sections, now: datetime) -> list[int]:
    """Broadcasts with a DM still to write, or recent enough for steps still to come."""
    return await store.broadcasts.unfinished(since=now - horizon(config))


@router.job(JOB, pending=unfinished, summary="a DM to every recipient; escalation of the dark")
async def deliver_broadcast(job: JobContext, broadcast_id: int) -> datetime | None:
    """Write what is missing for one broadcast; returns when to look again (None: done)."""
    target = await job.store.broadcasts.by_id(broadcast_id)
    if target is None:
        return None
    recipients = await job.store.broadcasts.recipients(broadcast_id)
    await _deliver(job, target, [r for r in recipients if r.dm_outbox_id is None])
    by_country: dict[str | None, list[BroadcastRecipient]] = defaultdict(list)
    for r in recipients:
        by_country[r.country].append(r)
    dark = {c for c, people in by_country.items() if all(r.acked_at is None for r in people)}
    noticed = await job.store.broadcasts.noticed(target.key)
    chain: tuple[Step, ...] = job.config[BroadcastConfig].chain()
    done = {k for k, who in noticed if who == STEP_DONE}
    due = [k for k in steps_due(chain, target.created_at, job.now) if k not in done]
    if due and dark:
        await _escalate(job, target, due, recipients, dark)
    emails_due = await _email(job, target, recipients, dark)
    chases = await _chase(job, target, by_country, {who for k, who in noticed if k == CHASE})
    following: list[datetime | None] = [*chases, emails_due]
    if target.exercise and (REPORT, target.sender) not in noticed:
        following.append(await _drill_report(job, target, recipients, by_country, chain))
    if dark:
        following.append(next_step(chain, target.created_at, job.now))
    return min((t for t in following if t is not None), default=None)


def _relay_seal(recipients: list[BroadcastRecipient]) -> Seal:
    """A roll-call shows the countries' relay notes: sealed with the strictest of them."""
    notes = [sealed(r.relay_tlp) for r in recipients if r.relay_note]
    return strictest(*notes) if notes else CHROME


def breadth_first(recipients: list[BroadcastRecipient]) -> list[BroadcastRecipient]:
    """One recipient of every country before a second of any: under the homeserver's rate
    limit every country is reached as early as the limit allows."""
    by_country: dict[str | None, list[BroadcastRecipient]] = {}
    for r in sorted(recipients, key=_tier_order):
        by_country.setdefault(r.country, []).append(r)
    ordered = []
    for rank in range(max((len(group) for group in by_country.values()), default=0)):
        ordered += [group[rank] for group in by_country.values() if rank < len(group)]
    return ordered


def _tier_order(r: BroadcastRecipient) -> int:
    return TIER_ORDER.index(r.tier) if r.tier in TIER_ORDER else len(TIER_ORDER)


async def _deliver(
    job: JobContext, target: Broadcast, recipients: list[BroadcastRecipient]
) -> None:
    """A DM for each recipient without one, all written in one statement, breadth first
    (the outbox sends in the order written)."""
    deliveries = []
    by_email = [r for r in recipients if email_only(r.user_id)]
    if by_email:  # contacts without a Matrix account: their email is their delivery
        await _send_emails(job, target, by_email, at_once=True)
    by_matrix = breadth_first([r for r in recipients if not email_only(r.user_id)])
    await job.store.roster.warm(r.user_id for r in by_matrix)  # their languages, one query
    view = announcement(target, [])  # each DM the same but for whom it is for: rendered
    for r in by_matrix:  # once a language, their ID put in (ForPerson)
        row = await job.post(
            ForPerson(view, "personal", r.user_id), to_user=r.user_id, mentions=[r.user_id],
            ref=ref(target), alert=True,
            seal=copy_seal(target, frozenset({r.user_id})),
        )  # fmt: skip
        deliveries.append((r, row))
    await job.store.broadcasts.delivered(deliveries)


async def _escalate(
    job: JobContext,
    target: Broadcast,
    due: list[int],
    recipients: list[BroadcastRecipient],
    dark: set[str | None],
) -> None:
    """The due steps at once (several only after downtime): each tier they name is alerted
    in every dark country, and the chair told who is dark, with their phone numbers."""
    chain = job.config[BroadcastConfig].chain()
    steps = [chain[k - 1] for k in due]
    wanted = frozenset().union(*(s.tiers for s in steps))
    round_ = due[-1]
    countries = job.env.reference.countries
    alerted = []
    for r in recipients:
        if r.country in dark and r.tier in wanted and not email_only(r.user_id):
            country = countries.name_of(r.country)
            view = announcement(
                target, [r.user_id], personal=r.user_id, round=round_, country=country
            )
            await job.post(
                view, to_user=r.user_id, mentions=[r.user_id], ref=ref(target), alert=True,
                seal=copy_seal(target, frozenset({r.user_id})),
            )  # fmt: skip
            alerted.append(r.user_id)
    if any(s.tells_chair for s in steps):
        # To the chairs now (not whoever sent it: they may have handed over since), with
        # the numbers to call: for the chair's eyes only.
        chairs_eyes = Viewer(Audience(Clearance.CHAIR))
        for chair in await job.chairs():
            summary = roll_call(job.env.reference, target, recipients, chairs_eyes)
            summary.update(
                round=round_, user=chair, alerted=alerted, phones=await _phones(job, dark),
                carried=label("amber+strict"),  # the numbers to call: for the chair alone
            )  # fmt: skip
            await job.post(
                View("broadcast/summary", summary), to_user=chair, mentions=[chair],
                ref=ref(target), alert=True, seal=strictest(PRIVATE, _relay_seal(recipients)),
            )  # fmt: skip
    await job.store.broadcasts.log_steps(target.key, due, alerted=alerted, at=job.now)
    await job.store.audit.record(
        actor="rcc-bot",
        action="broadcast escalate",
        outcome="sent",
        now=job.now,
        detail=f"{ShortId.BC.of(target.number)} step {round_}: {len(dark)} dark countries, "
        f"{len(alerted)} alerted",
    )


async def _drill_report(
    job: JobContext,
    target: Broadcast,
    recipients: list[BroadcastRecipient],
    by_country: dict[str | None, list[BroadcastRecipient]],
    chain: tuple[Step, ...],
) -> datetime | None:
    """Once every country has answered and relayed, or the chain has run its course: the
    drill's report to the chair who sent it, as text and as a chart. Returns when it falls
    due if not yet."""
    ends = target.created_at + max(
        (s.after for s in chain), default=job.config[BroadcastConfig].renotify_after
    )
    done = all(
        any(r.acked_at for r in people) and any(r.relayed_at for r in people)
        for people in by_country.values()
    )
    if not done and job.now < ends:
        return ends
    chairs_eyes = Viewer(Audience(Clearance.CHAIR))
    data = roll_call(job.env.reference, target, recipients, chairs_eyes) | carried_by(chairs_eyes)
    data["drill"] = await drill_report(job.store, job.env.reference, target, data)
    chart = FileSpec(
        f"rcc-drill-{data['id']}.png",
        "drill-png",
        "image/png",
        data,
        f"{data['id']} — drill: time to answer, by country",
    )
    for chair in await job.chairs():  # the chairs now: the sender may have handed over
        await job.post(
            View("broadcast/status", data), to_user=chair, mentions=[chair], files=[chart],
            ref=ref(target), seal=_relay_seal(recipients),
        )  # fmt: skip
    await job.store.broadcasts.log_report(target.key, target.sender, at=job.now)
    return None


async def _phones(job: JobContext, dark: set[str | None]) -> list[dict]:
    """The dark countries' contacts with a phone number, for the chair's call-outs."""
    entries = await job.store.roster.national()
    tiers = ranked(entries)
    countries = job.env.reference.countries
    recently = job.now - CHANGED_RECENTLY
    return [
        {
            "country": countries.name_of(e.country),
            "user": e.user_id,
            "kind": kind_title(tiers[e.id]),
            "phone": e.phone,
            # A number someone else put in lately may be an attacker's: the chair sees so.
            "changed_by": e.changed_by if e.changed_at and e.changed_at >= recently else None,
        }
        for e in entries
        if e.country in dark and e.phone
    ]


async def _email(
    job: JobContext,
    target: Broadcast,
    recipients: list[BroadcastRecipient],
    dark: set[str | None],
) -> datetime | None:
    """Email the dark countries' recipients who have an address, once; returns when that
    falls due if it has not yet."""
    after = email_after(job.config)
    waiting = [
        r for r in recipients if r.email and r.email_outbox_id is None and r.country in dark
    ]
    if after is None or not waiting:
        return None
    when = target.created_at + after
    if job.now < when:
        return when
    await _send_emails(job, target, waiting, at_once=False)
    return None


async def _send_emails(
    job: JobContext, target: Broadcast, recipients: list[BroadcastRecipient], *, at_once: bool
) -> None:
    """One email to each, its text only up to TLP:GREEN; linked to the recipient (and, for
    someone reached by email only, as their delivery)."""
    number = ShortId.BC.of(target.number)
    tag = "EXERCISE " if target.exercise else ""
    subject = (
        f"[{label(target.tlp)}] {tag}{target.severity.upper()} broadcast {number} "
        f"from the {job.config.committee.name}"
    )
    data = {
        "id": number,
        "tlp": label(target.tlp),
        "severity": target.severity,
        "exercise": target.exercise,
        "sender": target.sender,
        "committee": job.config.committee.name,
        "message": target.message if target.tlp in EMAIL_TEXT_UP_TO else None,
        "prefix": job.config.committee.command_prefix,
        "at_once": at_once,
    }
    data["carried"] = label(target.tlp) if data["message"] else None
    seal = Seal(target.tlp) if data["message"] else CHROME  # its text, up to GREEN only
    sent = []
    for r in recipients:
        row = await job.email(
            r.email or "", subject, View("broadcast/email", data), ref=ref(target), seal=seal
        )
        sent.append((r, row))
    await job.store.broadcasts.emailed(sent, delivered=at_once)
    await job.store.audit.record(
        actor="rcc-bot",
        action="broadcast email",
        outcome="sent",
        now=job.now,
        detail=f"{number} emailed to {len(sent)} in {len({r.country for r, _r in sent})} countries"
        + (" (no Matrix account)" if at_once else ""),
    )


async def _chase(
    job: JobContext,
    target: Broadcast,
    by_country: dict[str | None, list[BroadcastRecipient]],
    chased: set[str],
) -> list[datetime]:
    """Ask once, in each country that answered but has not confirmed onward dissemination,
    those who acknowledged; returns when the next chases fall due."""
    later = []
    within = job.config[BroadcastConfig].relay_within
    number = ShortId.BC.of(target.number)
    for people in by_country.values():
        answered = [r for r in people if r.acked_at is not None]
        if not answered or any(r.relayed_at for r in people):
            continue
        first = min(r.acked_at for r in answered if r.acked_at is not None)
        if job.now < first + within:
            later.append(first + within)
            continue
        for r in answered:
            if r.user_id in chased or email_only(r.user_id):
                continue
            text = (
                f"{'🧪 EXERCISE — ' if target.exercise else ''}📣 {number}: has it been passed on "
                "to the other points of contact in your country? When it has, send "
                f"{job.config.committee.command_prefix}relayed {number} "
                "(and a note of who, if you like)."
            )
            await job.post(
                text, to_user=r.user_id, mentions=[r.user_id], ref=ref(target), alert=True,
                seal=CHROME,
            )  # fmt: skip
            await job.store.broadcasts.log_chase(target.key, r.user_id, at=job.now)
    return later
