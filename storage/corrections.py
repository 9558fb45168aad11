"""Corrections of records, kept as history: each edit's field with its value before and
after, each withdrawal and undo, with who, when, why and from which event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Correction


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
            .where(Correction.kind == kind, Correction.number == number)
            .order_by(Correction.id)
        )
        return list(await self._s.scalars(query))
