"""National follow-through: a member state's endorsement of a standard the region adopted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column


class Endorsement(SQLModel, table=True):
    """One country's endorsement of one item's standard, as adopted in one catalogue
    version (a later amendment needs endorsing again)."""

    __tablename__ = "endorsement"
    __table_args__ = (UniqueConstraint("country", "item_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    country: str = Field(max_length=2, index=True)
    item_id: str = Field(max_length=64, index=True)
    version: int  # the catalogue version in force when it was endorsed
    standard: str = Field(sa_column=Column(Text, nullable=False))  # the words endorsed
    evidence: str | None = Field(default=None, max_length=2000)
    author: str = Field(max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column())


class EndorsementStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def endorse(
        self, *, country: str, item_id: str, version: int, standard: str,
        evidence: str | None, author: str, event_id: str | None, now: datetime,
    ) -> tuple[Endorsement, bool]:  # fmt: skip
        """Record it; an endorsement already recorded gets the new evidence. Returns it and
        whether it is new."""
        found = await self._s.scalar(
            select(Endorsement).where(
                col(Endorsement.country) == country,
                col(Endorsement.item_id) == item_id,
                col(Endorsement.version) == version,
            )
        )
        if found is not None:
            found.evidence = evidence or found.evidence
            return found, False
        row = Endorsement(
            country=country, item_id=item_id, version=version, standard=standard,
            evidence=evidence, author=author, event_id=event_id, at=now,
        )  # fmt: skip
        self._s.add(row)
        await self._s.flush()
        return row, True

    async def of_items(self, adopted: dict[str, str]) -> dict[str, list[Endorsement]]:
        """For each item (ID -> its standard in force), the endorsements of those very
        words, by country: an amended standard is endorsed anew."""
        if not adopted:
            return {}
        rows = await self._s.scalars(
            select(Endorsement)
            .where(col(Endorsement.item_id).in_(list(adopted)))
            .order_by(col(Endorsement.country))
        )
        found: dict[str, list[Endorsement]] = {}
        for row in rows:
            if row.standard == adopted[row.item_id]:
                found.setdefault(row.item_id, []).append(row)
        return found
