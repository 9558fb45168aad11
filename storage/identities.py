"""Members' cross-signing identities: the master key pinned on first sight, and a new one
kept pending until the chair confirms it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Identity


class Seen(StrEnum):
    FIRST = "first"  # pinned now
    SAME = "same"  # the pinned key
    CHANGED = "changed"  # a new key, recorded as pending now: say so
    STILL_CHANGED = "still changed"  # the pending key again


class IdentityStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, user_id: str) -> Identity | None:
        return await self._s.get(Identity, user_id)

    async def seen(self, user_id: str, key: str, *, event_id: str, now: datetime) -> Seen:
        """A member used a device cross-signed by `key`: pin it, or compare it."""
        found = await self._s.get(Identity, user_id)
        if found is None:
            self._s.add(
                Identity(user_id=user_id, master_key=key, pinned_at=now, event_id=event_id)
            )
            await self._s.flush()
            return Seen.FIRST
        if found.master_key == key:
            return Seen.SAME
        if found.pending_key == key:
            return Seen.STILL_CHANGED
        found.pending_key, found.pending_since, found.pending_event = key, now, event_id
        await self._s.flush()
        return Seen.CHANGED

    async def confirm(self, user_id: str, *, now: datetime, key: str | None = None) -> str | None:
        """Make the pending key (or `key`, vouched for by the config) the member's identity;
        returns the key now pinned, None when there was nothing to confirm."""
        found = await self._s.get(Identity, user_id)
        key = key or (found.pending_key if found else None)
        if key is None:
            return None
        if found is None:
            self._s.add(Identity(user_id=user_id, master_key=key, pinned_at=now))
        else:
            found.master_key, found.pinned_at = key, now
            found.pending_key = found.pending_since = found.pending_event = None
        await self._s.flush()
        return key
