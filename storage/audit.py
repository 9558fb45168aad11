"""The audit log: append-only (the store has no update or delete, the database refuses them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry

DETAIL_LIMIT = 1000
_INSERT = AuditEntry.__table__.insert()


class AuditStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def record(
        self,
        *,
        actor: str,
        action: str,
        outcome: str,
        now: datetime,
        room_id: str | None = None,
        event_id: str | None = None,
        detail: str = "",
    ) -> None:
        """Append one entry; `detail` must never carry TLP:RED text or secrets."""
        # A plain INSERT, built once: every command writes one, and needs no ORM object.
        await self._s.execute(
            _INSERT,
            {
                "at": now,
                "actor": actor,
                "action": action,
                "outcome": outcome,
                "room_id": room_id,
                "event_id": event_id,
                "detail": detail[:DETAIL_LIMIT],
            },
        )

    async def recent(self, *, limit: int = 50, actor: str | None = None) -> list[AuditEntry]:
        """Newest first."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if actor is not None:
            query = query.where(AuditEntry.actor == actor)
        return list(await self._s.scalars(query))
