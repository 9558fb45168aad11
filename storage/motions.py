"""Motions to change the catalogue, and the member states' votes on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.counters import next_number
from storage.models import Motion, Vote

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
    ) -> Motion:
        motion = Motion(
            number=await next_number(self._s, "motion"),
            kind=kind,
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
        return await self._s.scalar(select(Motion).where(Motion.number == number))

    async def pending(self) -> list[Motion]:
        query = select(Motion).where(Motion.state.in_(OPEN_STATES)).order_by(Motion.number)
        return list(await self._s.scalars(query))

    async def decided_between(self, start: datetime, end: datetime) -> list[Motion]:
        query = (
            select(Motion)
            .where(Motion.decided_at >= start, Motion.decided_at < end)
            .order_by(Motion.decided_at)
        )
        return list(await self._s.scalars(query))

    async def log(self, limit: int = 20) -> list[Motion]:
        """Decided motions, newest first."""
        query = (
            select(Motion)
            .where(Motion.decided_at.is_not(None))
            .order_by(Motion.decided_at.desc(), Motion.number.desc())
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
            select(Vote).where(Vote.motion == motion.number, Vote.country == country)
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
        query = select(Vote).where(Vote.motion == motion.number).order_by(Vote.country)
        return list(await self._s.scalars(query))
