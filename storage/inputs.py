"""Stakeholders' input to the Caribbean Stakeholders Meeting (Action Plan, section 8.3: the
meeting gathers stakeholders' input "in a structured way" and updates the plan)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column
from storage.counters import next_number


class StakeholderInput(SQLModel, table=True):
    """One contribution (`IN-n`), labelled like anything people write; `motion` is the
    number of the motion it became, if any."""

    __tablename__ = "stakeholder_input"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    meeting: str = Field(max_length=16)  # csm
    text: str = Field(sa_column=Column(Text, nullable=False))
    tlp: str = Field(max_length=16)
    origin_room: str | None = Field(default=None, max_length=255)
    said_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    author: str = Field(max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column(index=True))
    motion: int | None = Field(default=None)


class InputStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self, *, meeting: str, text: str, tlp: str, origin_room: str, said_to: str | None,
        author: str, event_id: str | None, now: datetime,
    ) -> StakeholderInput:  # fmt: skip
        row = StakeholderInput(
            number=await next_number(self._s, "input"), meeting=meeting, text=text,
            tlp=tlp, origin_room=origin_room, said_to=said_to, author=author,
            event_id=event_id, at=now,
        )  # fmt: skip
        self._s.add(row)
        await self._s.flush()
        return row

    async def get(self, number: int) -> StakeholderInput | None:
        return await self._s.scalar(
            select(StakeholderInput).where(col(StakeholderInput.number) == number)
        )

    async def between(
        self, meeting: str, start: datetime, end: datetime
    ) -> list[StakeholderInput]:
        query = select(StakeholderInput).where(
            col(StakeholderInput.meeting) == meeting,
            col(StakeholderInput.at) >= start,
            col(StakeholderInput.at) < end,
        )
        return list(await self._s.scalars(query.order_by(col(StakeholderInput.number))))
