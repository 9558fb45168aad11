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
from zoneinfo import ZoneInfo

from commands.calendar import Planned, next_round, period_start, plan, relevant
from commands.deadlines import schedule_of, when
from commands.framework import Jobs, Reply, View
from storage.models import Deadline, ReminderLog

log = logging.getLogger(__name__)

LATE_AFTER = timedelta(minutes=2)
RETRY_ROOMS = timedelta(minutes=1)


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
    rounds: list[Planned], recipient: str, kinds: dict[str, str], logged: set, country=None
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


async def send_due_reminders(jobs: Jobs, deadline_id: int) -> datetime | None:
    """Send what is due for one deadline now; returns when to look again (None: never)."""
    now, zone = jobs.env.now(), jobs.env.zone
    async with jobs.db.unit(write=False) as store:
        deadline = await store.deadlines.by_id(deadline_id)
        if deadline is None or deadline.status != "active":
            return None
        schedule = schedule_of(deadline, jobs.settings)
        ncpocs = await store.roster.ncpocs()
        chairs = [e.user_id for e in await store.roster.entries() if e.role == "chair"]
        work = []
        for k in relevant(schedule, now, zone):
            rounds = [r for r in plan(schedule, k, zone) if r.at <= now]
            if not rounds:
                continue
            start = period_start(schedule, k, zone)
            reports = await store.status.reports(start=start, end=now + timedelta(microseconds=1))
            logged = await store.deadlines.logged(deadline.id, rounds[0].occurrence)
            work.append((rounds, start, {r.country for r in reports}, logged))
    later = next_round(schedule, now, zone)
    decisions, context = [], {}
    for rounds, start, reported, logged in work:
        expected = sorted({e.country for e in ncpocs if e.country})
        missing = [c for c in expected if c not in reported]
        occurrence = rounds[0].occurrence
        context[occurrence] = {"start": start, "expected": expected, "missing": missing}
        for entry in ncpocs:
            if entry.country in missing:
                decisions += decide(rounds, entry.user_id, NCPOC_KINDS, logged, entry.country)
        # The chair hears at the deadline either way, and at follow-ups only while someone
        # is still missing.
        chair_kinds = CHAIR_KINDS if missing else {"overdue": "escalation"}
        for chair in chairs:
            decisions += decide(rounds, chair, chair_kinds, logged)
    if not decisions:
        return later
    unreachable = await _deliver(jobs, deadline, decisions, context, ncpocs, now, zone)
    if unreachable:
        return min(filter(None, (later, now + RETRY_ROOMS)))
    return later


async def _deliver(jobs, deadline, decisions, context, ncpocs, now, zone) -> bool:
    rooms: dict[str, str | None] = {}
    for d in decisions:
        if d.send and d.recipient not in rooms:
            rooms[d.recipient] = await jobs.direct_room(d.recipient)
    unreachable = False
    async with jobs.db.unit() as store:
        for occurrence in {d.round.occurrence for d in decisions}:
            logged = await store.deadlines.logged(deadline.id, occurrence)
            entries = []
            for d in (d for d in decisions if d.round.occurrence == occurrence):
                if d.key in logged:
                    continue  # another run got here first
                if d.send and rooms.get(d.recipient) is None:
                    unreachable = True
                    continue
                late = d.send and (d.round.at < jobs.started_at or now - d.round.at > LATE_AFTER)
                entries.append(_log_row(deadline, d, late, now))
                if d.send:
                    view = _message(jobs, deadline, d, late, context[occurrence], ncpocs, zone)
                    reply = Reply(
                        view, (d.recipient,), rooms[d.recipient], ref=f"deadline:{deadline.id}"
                    )
                    await jobs.post(store, reply)
                    await store.audit.record(
                        actor="rcc-bot",
                        action="reminder",
                        outcome="late" if late else "sent",
                        now=now,
                        room_id=rooms[d.recipient],
                        detail=f"DL-{deadline.number} {d.kind} {d.round.seq} to {d.recipient}",
                    )
            await store.deadlines.log(entries)
    sent = sum(1 for d in decisions if d.send)
    log.info(
        "DL-%s: %d notification(s) decided, %d to send", deadline.number, len(decisions), sent
    )
    return unreachable


def _log_row(deadline: Deadline, d: Decision, late: bool, now: datetime) -> ReminderLog:
    return ReminderLog(
        deadline_id=deadline.id,
        occurrence=d.round.occurrence,
        kind=d.kind,
        seq=d.round.seq,
        recipient=d.recipient,
        state="sent" if d.send else "superseded",
        late=late,
        scheduled_at=d.round.at,
        decided_at=now,
    )


def _message(jobs: Jobs, deadline, d: Decision, late: bool, period, ncpocs, zone) -> View:
    due = d.round.occurrence
    data = {
        "id": f"DL-{deadline.number}",
        "title": deadline.title,
        "kind": d.kind,
        "round": d.round.seq,
        "due": when(due, zone),
        "since": period["start"].astimezone(zone).strftime("%-d %b %Y"),
        "late": when(d.round.at, zone) if late else None,
        "user": d.recipient,
        "prefix": jobs.settings.prefix,
    }
    if d.kind == "escalation":
        names = jobs.env.reference.countries.by_code
        data["missing"] = [
            {
                "code": c,
                "name": names[c].name if c in names else c,
                "ncpocs": [e.user_id for e in ncpocs if e.country == c],
            }
            for c in period["missing"]
        ]
        data["reported"] = len(period["expected"]) - len(period["missing"])
        data["expected"] = len(period["expected"])
        return View("deadlines/escalation", data)
    country = jobs.env.reference.countries.by_code.get(d.country)
    data["country"] = country.name if country else d.country
    data["local_due"] = _local(due, zone, ZoneInfo(country.zone)) if country else None
    return View("deadlines/reminder", data)


def _local(due: datetime, committee: ZoneInfo, home: ZoneInfo) -> str | None:
    """The due time in the country's own zone, when its clock differs at that moment."""
    if due.astimezone(home).utcoffset() == due.astimezone(committee).utcoffset():
        return None
    return when(due, home)
