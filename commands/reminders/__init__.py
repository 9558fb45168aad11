"""The deadline job: reminders before, the overdue notice at, and follow-ups after a deadline.

The database decides and remembers: every notification is a row in the reminder log, written
in the same transaction as the message, under a unique key (deadline, occurrence, kind, round,
recipient). So nothing is sent twice, also across restarts, and nothing is lost: a round that
fell due while the bot was down is found at start and sent once, marked late. When several
rounds were missed, a recipient gets only the latest (the others are logged as superseded).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from commands import i18n
from commands.calendar import Planned, next_round, period_start, plan, relevant
from commands.context import JobContext
from commands.deadlines import JOB, schedule_of, when
from commands.directory import stand_in
from commands.framework import Router, View
from commands.i18n import Moment
from commands.sections import Sections
from commands.values import CHROME, Ref, RefKind, ShortId
from storage.deadlines import Deadline, Logged
from storage.stores import Stores

log = logging.getLogger(__name__)

router = Router("reminders")
LATE_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class Decision:
    round: Planned
    kind: str  # remind | overdue | followup | escalation
    recipient: str
    send: bool  # False: superseded by a later round
    country: str | None = None

    @property
    def key(self) -> tuple[str, int, str]:
        return self.kind, self.round.seq, self.recipient


def decide(
    rounds: list[Planned],
    recipient: str,
    kinds: dict[str, str],
    logged: set[Any],
    country: str | None = None,
) -> list[Decision]:
    """For one recipient: send the latest unsent round, supersede older unsent ones.

    `kinds` maps a round's kind to the kind logged for this recipient (chairs get
    "escalation" for the overdue and follow-up rounds, and nothing for reminders).
    """
    mine = [(r, kinds[r.kind]) for r in rounds if r.kind in kinds]
    done = [r.at for r, kind in mine if (kind, r.seq, recipient) in logged]
    latest_done = max(done, default=None)
    open_rounds = [(r, kind) for r, kind in mine if (kind, r.seq, recipient) not in logged]
    decisions = []
    for index, (r, kind) in enumerate(open_rounds):
        newest = index == len(open_rounds) - 1
        send = newest and (latest_done is None or r.at > latest_done)
        decisions.append(Decision(r, kind, recipient, send, country))
    return decisions


NCPOC_KINDS = {"remind": "remind", "overdue": "overdue", "followup": "followup"}
CHAIR_KINDS = {"overdue": "escalation", "followup": "escalation"}


async def active_deadlines(store: Stores, config: Sections, now: datetime) -> list[int]:
    return [d.key for d in await store.deadlines.active()]


@router.job(
    JOB,
    pending=active_deadlines,
    summary="reminders, overdue notices and follow-ups of a deadline",
)
async def send_due_reminders(job: JobContext, deadline_id: int) -> datetime | None:
    """Send what is due for one deadline now; returns when to look again (None: never)."""
    store, now, zone = job.store, job.now, job.env.zone
    deadline = await store.deadlines.by_id(deadline_id)
    if deadline is None or deadline.status != "active":
        return None
    schedule = schedule_of(deadline, job.config)
    ncpocs = await store.roster.ncpocs()
    national = await store.roster.national()  # who may stand in for an absent NCPOC, now
    expected = sorted({e.country for e in ncpocs if e.country})
    for k in relevant(schedule, now, zone):
        rounds = [r for r in plan(schedule, k, zone) if r.at <= now]
        if not rounds:
            continue
        start = period_start(schedule, k, zone)
        reports = await store.status.reports(start=start, end=now + timedelta(microseconds=1))
        reported = {r.country for r in reports}
        period = Period(start, expected, [c for c in expected if c not in reported])
        logged = await store.deadlines.logged(deadline_id, rounds[0].occurrence)
        decisions = []
        standing: dict[str, str | None] = {}  # recipient -> country; an absent NCPOC's
        for entry in ncpocs:  # reminders go to the colleague they named (!away), once
            if entry.country in period.missing:
                standing.setdefault(stand_in(entry, now, national), entry.country)
        for user, country in standing.items():
            decisions += decide(rounds, user, NCPOC_KINDS, logged, country)
        # The chair hears at the deadline either way, and at follow-ups only while someone
        # is still missing.
        chair_kinds = CHAIR_KINDS if period.missing else {"overdue": "escalation"}
        for chair in await job.chairs():
            decisions += decide(rounds, chair, chair_kinds, logged)
        await _deliver(job, deadline, decisions, period, ncpocs)
    return next_round(schedule, now, zone)


@dataclass(frozen=True)
class Period:
    """The reporting period a round belongs to: since when, who should report, who has not."""

    start: datetime
    expected: list[str]
    missing: list[str]


async def _deliver(
    job: JobContext, deadline: Deadline, decisions: list[Decision], period: Period, ncpocs: Any
) -> None:
    """Each decision logged once; the sent ones posted to their recipient's DM."""
    entries = []
    for d in decisions:
        late = d.send and (d.round.at < job.started_at or job.now - d.round.at > LATE_AFTER)
        entries.append(
            Logged(
                occurrence=d.round.occurrence,
                kind=d.kind,
                seq=d.round.seq,
                recipient=d.recipient,
                state="sent" if d.send else "superseded",
                late=late,
                scheduled_at=d.round.at,
            )
        )
        if not d.send:
            continue
        seen = await i18n.zone_of(job.store, d.recipient) or job.env.zone
        view = _message(job, deadline, d, late, period, ncpocs, seen)
        await job.post(
            view, to_user=d.recipient, mentions=[d.recipient], ref=ref(deadline), alert=True,
            seal=CHROME,  # a deadline's title is the chair's schedule, said to every NCPOC
        )  # fmt: skip
        await job.store.audit.record(
            actor="rcc-bot",
            action="reminder",
            outcome="late" if late else "sent",
            now=job.now,
            detail=f"{ShortId.DL.of(deadline.number)} {d.kind} {d.round.seq} to {d.recipient}",
        )
    await job.store.deadlines.log(deadline.key, entries, now=job.now)
    sent = sum(1 for d in decisions if d.send)
    if decisions:
        log.info(
            "DL-%s: %d notification(s) decided, %d to send", deadline.number, len(decisions), sent
        )


def ref(deadline: Deadline) -> Ref:
    return Ref(RefKind.DEADLINE, deadline.key)


def _message(
    job: JobContext,
    deadline: Deadline,
    d: Decision,
    late: bool,
    period: Period,
    ncpocs: Any,
    seen: ZoneInfo,
) -> View:
    """`seen`: the zone the recipient reads times in (their profile's, or the committee's)."""
    zone = job.env.zone
    due = d.round.occurrence
    data = {
        "id": ShortId.DL.of(deadline.number),
        "title": deadline.title,
        "kind": d.kind,
        "round": d.round.seq,
        "due": when(due, zone),
        "since": Moment(period.start, zone, "%-d %b %Y"),
        "late": when(d.round.at, zone) if late else None,
        "user": d.recipient,
        "prefix": job.config.committee.command_prefix,
    }
    if d.kind == "escalation":
        names = job.env.reference.countries.by_code
        data["missing"] = [
            {
                "code": c,
                "name": names[c].name if c in names else c,
                "ncpocs": [e.user_id for e in ncpocs if e.country == c],
            }
            for c in period.missing
        ]
        data["reported"] = len(period.expected) - len(period.missing)
        data["expected"] = len(period.expected)
        return View("deadlines/escalation", data)
    country = job.env.reference.countries.by_code.get(d.country or "")
    data["country"] = country.name if country else d.country
    data["local_due"] = _local(due, seen, ZoneInfo(country.zone)) if country else None
    return View("deadlines/reminder", data)


def _local(due: datetime, seen: ZoneInfo, home: ZoneInfo) -> Moment | None:
    """The due time in the country's own zone, when its clock differs at that moment from
    the one the reader sees it in."""
    if due.astimezone(home).utcoffset() == due.astimezone(seen).utcoffset():
        return None
    return Moment(due, home, "%a %-d %b %Y %H:%M", show_zone=True, fixed=True)
