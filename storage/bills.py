"""Legislation as it moves: a legal item's bill, stage by stage, in one country (Action Plan,
Table 4: legislation enacted, with a champion per bill)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column


class BillStage(SQLModel, table=True):
    """One step of a bill (never overwritten: the history is the ladder climbed)."""

    __tablename__ = "bill_stage"

    id: int | None = Field(default=None, primary_key=True)
    country: str = Field(max_length=2, index=True)
    item_id: str = Field(max_length=64)
    stage: str = Field(max_length=16)
    champion: str | None = Field(default=None, max_length=255)
    evidence: str | None = Field(default=None, max_length=2000)
    author: str = Field(max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column())


class BillStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def step(
        self, *, country: str, item_id: str, stage: str, champion: str | None,
        evidence: str | None, author: str, event_id: str | None, now: datetime,
    ) -> BillStage:  # fmt: skip
        row = BillStage(
            country=country, item_id=item_id, stage=stage, champion=champion,
            evidence=evidence, author=author, event_id=event_id, at=now,
        )  # fmt: skip
        self._s.add(row)
        await self._s.flush()
        return row

    async def stages(self) -> dict[tuple[str, str], str]:
        """Every (country, item)'s latest stage."""
        rows = await self._s.scalars(select(BillStage).order_by(col(BillStage.id)))
        return {(r.country, r.item_id): r.stage for r in rows}

    async def history(self, country: str) -> list[BillStage]:
        """Every step of one country's bills, oldest first."""
        query = select(BillStage).where(col(BillStage.country) == country)
        return list(await self._s.scalars(query.order_by(col(BillStage.id))))
