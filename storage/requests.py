"""Requests for assistance (`RQ-n`) and the offers that answer them (`OF-n`): a country asks,
the region answers (Action Plan, Table 5: pooled forensic resources, the 24/7 network for
electronic evidence; Table 2: trainers; the Communiqué: partners' support by each country's
needs)."""

from __future__ import annotations

from datetime import datetime
from statistics import median
from typing import Any

from sqlalchemy import Column, Text, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column
from storage.counters import next_number

OPEN = ("open", "accepted")  # still to be delivered


class AssistanceRequest(SQLModel, table=True):
    """A country's request; a preservation request names the country asked (`asked`)."""

    __tablename__ = "assistance_request"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    kind: str = Field(max_length=16)
    country: str = Field(max_length=2, index=True)  # the requesting country
    asked: str | None = Field(default=None, max_length=2)  # the country asked, if one is
    item: str | None = Field(default=None, max_length=64, index=True)
    due_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    text: str = Field(sa_column=Column(Text, nullable=False))
    tlp: str = Field(max_length=16)
    origin_room: str = Field(max_length=255)
    said_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    author: str = Field(max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    # open | accepted | delivered | closed | withdrawn
    state: str = Field(default="open", max_length=16, index=True)
    matched: str = Field(default=",", sa_column=Column(Text, nullable=False))  # countries asked
    created_at: datetime = Field(sa_column=utc_column(index=True))
    first_offer_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    accepted_offer: int | None = Field(default=None)
    delivered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    feedback: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # A preservation request: who of the country asked acknowledged it, and the rounds of
    # its escalation chain sent so far.
    acked_by: str | None = Field(default=None, max_length=255)
    acked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    rounds: int = 0
    reminded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    unanswered_told_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class AssistanceOffer(SQLModel, table=True):
    """An offer answering a request, from a country or an organisation."""

    __tablename__ = "assistance_offer"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    request: int = Field(index=True)  # the request's number
    country: str | None = Field(default=None, max_length=2)
    text: str = Field(sa_column=Column(Text, nullable=False))
    author: str = Field(max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column())


class RequestStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self, *, kind: str, country: str, asked: str | None, item: str | None,
        due_at: datetime | None, text: str, tlp: str, origin_room: str, said_to: str | None,
        author: str, event_id: str | None, matched: str, now: datetime,
    ) -> AssistanceRequest:  # fmt: skip
        row = AssistanceRequest(
            number=await next_number(self._s, "request"), kind=kind, country=country,
            asked=asked, item=item, due_at=due_at, text=text, tlp=tlp, origin_room=origin_room,
            said_to=said_to, author=author, event_id=event_id, matched=matched, created_at=now,
        )  # fmt: skip
        self._s.add(row)
        await self._s.flush()
        return row

    async def get(self, number: int) -> AssistanceRequest | None:
        query = select(AssistanceRequest).where(col(AssistanceRequest.number) == number)
        return await self._s.scalar(query)

    async def find(
        self, *, states: tuple[str, ...] | None = None, country: str | None = None,
        author: str | None = None, limit: int = 200,
    ) -> list[AssistanceRequest]:  # fmt: skip
        """Newest first."""
        query = select(AssistanceRequest).order_by(col(AssistanceRequest.number).desc())
        if states is not None:
            query = query.where(col(AssistanceRequest.state).in_(states))
        if country is not None:
            query = query.where(col(AssistanceRequest.country) == country)
        if author is not None:
            query = query.where(col(AssistanceRequest.author) == author)
        return list(await self._s.scalars(query.limit(limit)))

    async def between(self, start: datetime, end: datetime) -> list[AssistanceRequest]:
        """Requests opened in a period, or opened before it and still open (for the digest's
        counts: opened, answered, overdue)."""
        query = select(AssistanceRequest).where(
            col(AssistanceRequest.created_at) < end,
            or_(
                col(AssistanceRequest.created_at) >= start, col(AssistanceRequest.state).in_(OPEN)
            ),
        )
        return list(await self._s.scalars(query.order_by(col(AssistanceRequest.number))))

    async def offer(
        self, request: AssistanceRequest, *, country: str | None, text: str, author: str,
        event_id: str | None, now: datetime,
    ) -> AssistanceOffer:  # fmt: skip
        row = AssistanceOffer(
            number=await next_number(self._s, "offer"), request=request.number,
            country=country, text=text, author=author, event_id=event_id, at=now,
        )  # fmt: skip
        self._s.add(row)
        if request.first_offer_at is None:
            request.first_offer_at = now
        await self._s.flush()
        return row

    async def offers(self, request: int) -> list[AssistanceOffer]:
        query = select(AssistanceOffer).where(col(AssistanceOffer.request) == request)
        return list(await self._s.scalars(query.order_by(col(AssistanceOffer.number))))

    async def get_offer(self, number: int) -> AssistanceOffer | None:
        query = select(AssistanceOffer).where(col(AssistanceOffer.number) == number)
        return await self._s.scalar(query)


def tally(rows: list[AssistanceRequest], start: datetime, end: datetime) -> dict[str, Any]:
    """For the digest, counts only: per requesting country the requests opened in [start,
    end), those of them answered (with an offer), and those overdue at `end`; the median time
    to a first offer, in hours."""
    by: dict[str, dict[str, int]] = {}
    waits = []
    for r in rows:
        counts = by.setdefault(r.country, {"opened": 0, "answered": 0, "overdue": 0})
        if start <= r.created_at < end:
            counts["opened"] += 1
            if r.first_offer_at is not None:
                counts["answered"] += 1
                waits.append((r.first_offer_at - r.created_at).total_seconds() / 3600)
        if r.due_at is not None and r.due_at < end and r.state in OPEN:
            counts["overdue"] += 1
    return {
        "by_country": [{"country": c, **n} for c, n in sorted(by.items()) if any(n.values())],
        "opened": sum(n["opened"] for n in by.values()),
        "answered": sum(n["answered"] for n in by.values()),
        "overdue": sum(n["overdue"] for n in by.values()),
        "median_hours": round(median(waits), 1) if waits else None,
    }
