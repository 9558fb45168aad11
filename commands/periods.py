"""Reporting periods. A deadline closes a period; until a deadline exists, a period is the
calendar quarter in the committee's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    key: str  # "2026-Q4", or "DL-3 2026-12-15" for the period a deadline closes
    start: datetime  # aware UTC, inclusive
    end: datetime  # aware UTC: the deadline itself, or the quarter's end (exclusive)
    zone: ZoneInfo
    title: str = ""

    @property
    def label(self) -> str:
        """`2026-Q4 (1 Oct 2026 – 31 Dec 2026)` or `DL-3 “Q4 report” (1 Oct – due 15 Dec 2026)`."""
        first = self.start.astimezone(self.zone)
        if self.title:
            due = self.end.astimezone(self.zone)
            return f"{self.key.split()[0]} “{self.title}” ({first:%-d %b} – due {due:%-d %b %Y})"
        last = self.end.astimezone(self.zone) - timedelta(days=1)
        return f"{self.key} ({first:%-d %b %Y} – {last:%-d %b %Y})"


def quarter(now: datetime, zone: ZoneInfo) -> Period:
    """The calendar quarter containing `now`, its bounds at local midnight."""
    local = now.astimezone(zone)
    q = (local.month - 1) // 3
    start = datetime(local.year, 3 * q + 1, 1, tzinfo=zone)
    end = datetime(local.year + (q == 3), 1 if q == 3 else 3 * q + 4, 1, tzinfo=zone)
    return Period(f"{local.year}-Q{q + 1}", start.astimezone(UTC), end.astimezone(UTC), zone)
