"""Reporting periods. Until deadlines exist, a period is the calendar quarter in the
committee's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    key: str  # "2026-Q4"
    start: datetime  # aware, UTC; inclusive
    end: datetime  # aware, UTC; exclusive
    zone: ZoneInfo

    @property
    def label(self) -> str:
        """`2026-Q4 (1 Oct 2026 – 31 Dec 2026)`, in the committee's zone."""
        first = self.start.astimezone(self.zone)
        last = self.end.astimezone(self.zone) - timedelta(days=1)
        return f"{self.key} ({first:%-d %b %Y} – {last:%-d %b %Y})"


def quarter(now: datetime, zone: ZoneInfo) -> Period:
    """The calendar quarter containing `now`, its bounds at local midnight."""
    local = now.astimezone(zone)
    q = (local.month - 1) // 3
    start = datetime(local.year, 3 * q + 1, 1, tzinfo=zone)
    end = datetime(local.year + (q == 3), 1 if q == 3 else 3 * q + 4, 1, tzinfo=zone)
    return Period(f"{local.year}-Q{q + 1}", start.astimezone(UTC), end.astimezone(UTC), zone)


def open_period(now: datetime, zone: ZoneInfo) -> Period:
    """The reporting period open at `now`."""
    return quarter(now, zone)
