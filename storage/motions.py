"""Motions to change the catalogue, and the member states' votes on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, Text, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column
from storage.counters import next_number


class Motion(SQLModel, table=True):
    """A proposal to change the catalogue, decided by one vote per member state."""

    __tablename__ = "motion"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    kind: str = Field(max_length=16)  # propose | amend | retire
    # What an amendment changes: the item's standard, need, solutions or partners.
    part: str = Field(
        default="standard",
        sa_column=Column(String(16), nullable=False, server_default="standard"),
    )
    target: str = Field(max_length=64)  # an item ID, or an area ID for a new item
    text: str = Field(sa_column=Column(Text, nullable=False))
    proposer: str = Field(max_length=255)
    tlp: str = Field(default="amber", max_length=16)  # said without a label: AMBER
    origin_room: str | None = Field(default=None, max_length=255)
    said_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # heard by
    country: str | None = Field(default=None, max_length=2)
    seconder: str | None = Field(default=None, max_length=255)
    state: str = Field(max_length=16, index=True)  # seconding | open | adopted | rejected | failed
    base_version: int
    due: str | None = Field(default=None, max_length=7)  # YYYY-MM: the item's target date
    version: int | None = Field(default=None)  # the catalogue version it created
    opened_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    closes_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    result: str = Field(default="", max_length=500)  # the tally as announced
    event_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_column=utc_column())
    # Fixed when it opens: the countries that vote (storage.lists) and the votes needed.
    electorate: str | None = Field(default=None, max_length=500)
    quorum: int | None = Field(default=None)


class Vote(SQLModel, table=True):
    """A member state's vote on a motion; a later vote of the same country replaces it."""

    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("motion", "country", name="uq_vote_country"),)

    id: int | None = Field(default=None, primary_key=True)
    motion: int  # the motion's number
    country: str = Field(max_length=2)
    voter: str = Field(max_length=255)
    choice: str = Field(max_length=8)  # yes | no | abstain
    note: str = Field(default="", max_length=500)
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column())


OPEN_STATES = ("seconding", "open")


class MotionStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self,
        *,
        kind: str,
        target: str,
        text: str,
        proposer: str,
        country: str | None,
        base_version: int,
        due: str | None,
        event_id: str | None,
        now: datetime,
        tlp: str = "amber",
        origin_room: str | None = None,
        said_to: str | None = None,
        part: str = "standard",
    ) -> Motion:
        motion = Motion(
            number=await next_number(self._s, "motion"),
            kind=kind,
            part=part,
            target=target,
            text=text,
            proposer=proposer,
            country=country,
            state="seconding",
            base_version=base_version,
            due=due,
            event_id=event_id,
            created_at=now,
            tlp=tlp,
            origin_room=origin_room,
            said_to=said_to,
        )
        self._s.add(motion)
        await self._s.flush()
        return motion

    async def get(self, number: int) -> Motion | None:
        return await self._s.scalar(select(Motion).where(col(Motion.number) == number))

    async def pending(self) -> list[Motion]:
        query = (
            select(Motion).where(col(Motion.state).in_(OPEN_STATES)).order_by(col(Motion.number))
        )
        return list(await self._s.scalars(query))

    async def decided_between(self, start: datetime, end: datetime) -> list[Motion]:
        query = (
            select(Motion)
            .where(col(Motion.decided_at) >= start, col(Motion.decided_at) < end)
            .order_by(col(Motion.decided_at))
        )
        return list(await self._s.scalars(query))

    async def log(self, limit: int = 20) -> list[Motion]:
        """Decided motions, newest first."""
        query = (
            select(Motion)
            .where(col(Motion.decided_at).is_not(None))
            .order_by(col(Motion.decided_at).desc(), col(Motion.number).desc())
            .limit(limit)
        )
        return list(await self._s.scalars(query))

    async def vote(
        self,
        motion: Motion,
        *,
        country: str,
        voter: str,
        choice: str,
        note: str,
        event_id: str | None,
        now: datetime,
    ) -> Vote | None:
        """Record a country's vote; returns the vote it replaced, if any (as it was)."""
        found = await self._s.scalar(
            select(Vote).where(col(Vote.motion) == motion.number, col(Vote.country) == country)
        )
        if found is None:
            self._s.add(
                Vote(
                    motion=motion.number,
                    country=country,
                    voter=voter,
                    choice=choice,
                    note=note,
                    event_id=event_id,
                    at=now,
                )
            )
            await self._s.flush()
            return None
        before = Vote(
            motion=found.motion, country=found.country, voter=found.voter,
            choice=found.choice, note=found.note, at=found.at,
        )  # fmt: skip
        found.voter, found.choice, found.note, found.event_id, found.at = (
            voter, choice, note, event_id, now,
        )  # fmt: skip
        await self._s.flush()
        return before

    async def votes(self, motion: Motion) -> list[Vote]:
        query = select(Vote).where(col(Vote.motion) == motion.number).order_by(col(Vote.country))
        return list(await self._s.scalars(query))
