"""Corrections of records, kept as history: each edit's field with its value before and
after, each withdrawal and undo, with who, when, why and from which event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column


class Correction(SQLModel, table=True):
    """One change to a record after it was made: a field's value before and after, or a
    withdrawal; who made it, when and from which event (the record keeps its history)."""

    __tablename__ = "correction"
    __table_args__ = (Index("ix_correction_record", "kind", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # incident, lesson, resource, status
    number: int
    field: str = Field(max_length=32)
    before: str = Field(sa_column=Column(Text, nullable=False))
    after: str = Field(sa_column=Column(Text, nullable=False))
    by: str = Field(max_length=255)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column())


class CorrectionStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def record(
        self,
        *,
        kind: str,
        number: int,
        field: str,
        before: str,
        after: str,
        by: str,
        event_id: str | None,
        now: datetime,
        reason: str = "",
    ) -> None:
        self._s.add(
            Correction(
                kind=kind, number=number, field=field, before=before, after=after, by=by,
                reason=reason, event_id=event_id, at=now,
            )
        )  # fmt: skip
        await self._s.flush()

    async def of(self, kind: str, number: int) -> list[Correction]:
        """A record's corrections, oldest first."""
        query = (
            select(Correction)
            .where(col(Correction.kind) == kind, col(Correction.number) == number)
            .order_by(col(Correction.id))
        )
        return list(await self._s.scalars(query))
