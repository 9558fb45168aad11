"""Deadline arithmetic, pure and clock-free: occurrences, reporting periods, what is due when.

Recurring deadlines keep their local wall-clock time across daylight-saving changes (a
deadline at 17:00 in Nassau stays at 17:00 local, its UTC time moving with DST) and their day
of the month (31 Jan -> 28 Feb -> 31 Mar). A deadline closes a reporting period: for a
recurring one the period runs from the previous occurrence; for the first occurrence of a
series or a one-off deadline, from the start of the calendar quarter it was set in.
"""

from __future__ import annotations

import calendar as cal
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from commands.periods import quarter

STEP_MONTHS = {"month": 1, "quarter": 3, "year": 12}
MAX_OCCURRENCES = 10_000


@dataclass(frozen=True)
class Schedule:
    """What the plan needs to know about one deadline."""

    due: datetime  # first occurrence, aware UTC
    every: str | None  # month | quarter | year | None
    remind: tuple[timedelta, ...]
    created_at: datetime
    followup_every: timedelta
    max_followups: int


@dataclass(frozen=True)
class Planned:
    """One notification round for one occurrence: reminders, the overdue notice, follow-ups."""

    kind: str  # remind | overdue | followup
    seq: int  # the offset in seconds for reminders, the round number for follow-ups
    at: datetime
    occurrence: datetime


def add_months(local: datetime, months: int) -> datetime:
    """Same day and wall-clock time `months` later, the day clamped to the month's end."""
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, cal.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def occurrence(schedule: Schedule, k: int, zone: ZoneInfo) -> datetime:
    """The k-th occurrence (0 is the first), in UTC."""
    if k == 0 or schedule.every is None:
        return schedule.due
    local = schedule.due.astimezone(zone).replace(tzinfo=None)
    shifted = add_months(local, STEP_MONTHS[schedule.every] * k)
    return shifted.replace(tzinfo=zone).astimezone(UTC)


def around(schedule: Schedule, now: datetime, zone: ZoneInfo) -> tuple[int | None, int | None]:
    """Indexes of the last occurrence at or before `now` and of the next one after it."""
    if schedule.every is None:
        return (0, None) if schedule.due <= now else (None, 0)
    if schedule.due > now:
        return None, 0
    k = 0
    while k < MAX_OCCURRENCES and occurrence(schedule, k + 1, zone) <= now:
        k += 1
    return k, k + 1


def period_start(schedule: Schedule, k: int, zone: ZoneInfo) -> datetime:
    """When the reporting period closed by occurrence k began."""
    if k > 0 and schedule.every is not None:
        return occurrence(schedule, k - 1, zone)
    if schedule.every is not None:
        local = schedule.due.astimezone(zone).replace(tzinfo=None)
        back = add_months(local, -STEP_MONTHS[schedule.every])
        return back.replace(tzinfo=zone).astimezone(UTC)
    return quarter(min(schedule.created_at, schedule.due), zone).start


def plan(schedule: Schedule, k: int, zone: ZoneInfo) -> list[Planned]:
    """Every notification round of occurrence k, in time order.

    Rounds that would fall before the deadline was set are not planned (a reminder 14 days
    ahead of a deadline set 3 days ahead). Follow-ups stop at the next occurrence of a
    recurring deadline, whose own period takes over.
    """
    due = occurrence(schedule, k, zone)
    rounds = [
        Planned("remind", int(offset.total_seconds()), due - offset, due)
        for offset in schedule.remind
    ]
    rounds.append(Planned("overdue", 0, due, due))
    following = occurrence(schedule, k + 1, zone) if schedule.every else None
    for n in range(1, schedule.max_followups + 1):
        at = due + schedule.followup_every * n
        if following is not None and at >= following:
            break
        rounds.append(Planned("followup", n, at, due))
    return sorted((r for r in rounds if r.at >= schedule.created_at), key=lambda r: r.at)


def relevant(schedule: Schedule, now: datetime, zone: ZoneInfo) -> list[int]:
    """The occurrences whose rounds may still be due: the last passed one and the next."""
    last, following = around(schedule, now, zone)
    return [k for k in (last, following) if k is not None]


def next_round(schedule: Schedule, now: datetime, zone: ZoneInfo) -> datetime | None:
    """When the next planned round falls due after `now` (None when nothing is left)."""
    times = [r.at for k in relevant(schedule, now, zone) for r in plan(schedule, k, zone)]
    future = [t for t in times if t > now]
    return min(future, default=None)
