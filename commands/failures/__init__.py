"""Messages the homeserver refused for good are reported, in words, to whoever should know
(for jobs: the chair), once each. The bot never lets a refused message pass as sent.

A person whose direct chat with the bot could not be opened — they refuse invitations
(`M_INVITE_BLOCKED`), or the homeserver forbids it (403) — is emailed at once where the roster
has an address: the message itself up to TLP:GREEN, else word that one is waiting; the chair's
notice says so."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from commands.audience import PRIVATE
from commands.context import JobContext
from commands.framework import Router, Signal, View
from commands.sections import Sections
from commands.tlp import label
from commands.values import CHROME, Clearance, Ref, RefKind, Seal, ShortId
from storage.lists import unpack
from storage.outbox import OutboxMessage
from storage.stores import Stores

router = Router("failures", templates=Path(__file__).parent / "templates")
NO_DM = "no direct message with "  # the sender's reason when a DM could not be opened
EMAILABLE = ("clear", "green")

JOB = "delivery failures"


async def unreported(store: Stores, config: Sections, now: datetime) -> list[int]:
    """One record, key 0, while some refused message has not been reported yet."""
    return [0] if await store.outbox.failed_unreported() else []


@router.job(
    JOB,
    pending=unreported,
    summary="tell the chair about messages that were refused",
    on=[Signal.REFUSED],
)
async def report_failures(job: JobContext, _key: int = 0) -> None:
    failed = await job.store.outbox.failed_unreported()
    for row in failed:
        emailed = await email_instead(job, row)
        data = {
            "what": await describe(job.store, Ref.parse(row.ref)),
            "to": row.to_user or row.room_id,
            "person": row.to_user is not None,
            "reason": row.error or "no reason given",
            "at": row.created_at,
            "emailed": emailed,
        }
        # An email's refusal names the address: for the chair's eyes only.
        seal = PRIVATE if row.kind == "email" else CHROME
        for person in unpack(row.report_to):
            view = View("errors/undelivered", data | {"user": person})
            await job.post(
                view, to_user=person, mentions=[person], report=False, alert=True, seal=seal
            )
    await job.store.outbox.mark_reported([row.id for row in failed if row.id], now=job.now)
    return None  # woken again by the next refusal


async def email_instead(job: JobContext, row: OutboxMessage) -> bool:
    """A message to a person whose DM could not be opened, by email at once where the roster
    has their address (and the bot an SMTP server): its text only up to GREEN and to nobody
    it is bound to, else word that a message is waiting. Whether it was emailed."""
    if row.kind != "message" or row.to_user is None or not (row.error or "").startswith(NO_DM):
        return False
    if not job.config.mail:
        return False
    entries = await job.store.roster.entries()
    address = next((e.email for e in entries if e.user_id == row.to_user and e.email), None)
    if not address:
        return False
    shown = row.label in EMAILABLE and row.needs <= Clearance.OUTSIDER and not row.bound_to
    body = json.loads(row.content).get("body", "") if shown else None
    data = {"text": body, "label": label(row.label), "committee": job.config.committee.name,
            "carried": label(row.label) if shown else None}  # fmt: skip
    subject = f"[{label(row.label)}] {job.config.committee.name}: a message could not reach you"
    await job.email(
        address, subject, View("failures/email", data), seal=Seal(row.label) if shown else CHROME
    )
    return True


async def describe(store: Stores, ref: Ref | None) -> str:
    """What a message was, in the committee's words."""
    if ref is None:
        return "a message"
    if ref.kind == RefKind.BROADCAST:
        found = await store.broadcasts.by_id(ref.key)
        return f"the broadcast {ShortId.BC.of(found.number)}" if found else "a broadcast"
    if ref.kind == RefKind.DEADLINE:
        deadline = await store.deadlines.by_id(ref.key)
        return f"a notice about {ShortId.DL.of(deadline.number)}" if deadline else "a notice"
    if ref.kind == RefKind.DIGEST:
        return f"the digest {ShortId.DG.of(ref.key)}" if ref.key else "the scheduled digest"
    return "a message"
