"""The money behind the plan (section 9): each project's funding, line by line — an amount in
a currency from a funder, pledged, committed or disbursed — and the funders the committee
knows, with the areas or items they fund."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, Numeric, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column
from storage.lists import pack

STATES = ("pledged", "committed", "disbursed")
SECURED = ("committed", "disbursed")  # what counts as a need funded


class Funding(SQLModel, table=True):
    """One line of a project's funding; a later line from the same funder replaces it (the
    earlier ones are its history)."""

    __tablename__ = "project_funding"

    id: int | None = Field(default=None, primary_key=True)
    project: int = Field(index=True)  # the project's number
    funder: str = Field(max_length=200)
    amount: Decimal = Field(sa_column=Column(Numeric(16, 2), nullable=False))
    currency: str = Field(max_length=3)
    state: str = Field(max_length=16)
    author: str = Field(max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column())


class Funder(SQLModel, table=True):
    """A funder the committee may approach, and what it funds (areas or items)."""

    __tablename__ = "funder"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    interests: str = Field(default=",", sa_column=Column(Text, nullable=False))  # lists
    author: str = Field(max_length=255)
    at: datetime = Field(sa_column=utc_column())


class FundingStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self, *, project: int, funder: str, amount: Decimal, currency: str, state: str,
        author: str, event_id: str | None, now: datetime,
    ) -> Funding:  # fmt: skip
        row = Funding(
            project=project, funder=funder, amount=amount, currency=currency, state=state,
            author=author, event_id=event_id, at=now,
        )  # fmt: skip
        self._s.add(row)
        await self._s.flush()
        return row

    async def current(self, projects: list[int] | None = None) -> dict[int, list[Funding]]:
        """Each project's funding now: the latest line per funder."""
        query = select(Funding).order_by(col(Funding.id))
        if projects is not None:
            query = query.where(col(Funding.project).in_(projects))
        latest: dict[tuple[int, str], Funding] = {}
        for row in await self._s.scalars(query):
            latest[(row.project, row.funder.casefold())] = row
        found: dict[int, list[Funding]] = {}
        for (number, _funder), row in latest.items():
            found.setdefault(number, []).append(row)
        return found

    async def funder(self, name: str) -> Funder | None:
        return await self._s.scalar(select(Funder).where(col(Funder.name) == name))

    async def set_funder(
        self, *, name: str, interests: list[str], author: str, now: datetime
    ) -> tuple[Funder, bool]:
        """Add a funder, or replace the interests of one known by that name; (row, new)."""
        found = await self.funder(name)
        if found is not None:
            found.interests, found.author, found.at = pack(interests), author, now
            await self._s.flush()
            return found, False
        row = Funder(name=name, interests=pack(interests), author=author, at=now)
        self._s.add(row)
        await self._s.flush()
        return row, True

    async def funders(self) -> list[Funder]:
        return list(await self._s.scalars(select(Funder).order_by(col(Funder.name))))
