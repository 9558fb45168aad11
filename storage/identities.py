"""Members' cross-signing identities: the master key pinned on first sight (with the
self-signing key it signed), a new one kept pending until the chair confirms its
fingerprint, and a key the chair refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from storage.columns import utc_column


class Identity(SQLModel, table=True):
    """A member's cross-signing master key, pinned on first sight with the self-signing key
    it signed (so that devices signed under it still count once the homeserver publishes
    another); a new one waits for the chair to confirm its fingerprint (`!roster trust`)."""

    __tablename__ = "identity"

    user_id: str = Field(max_length=255, primary_key=True)
    master_key: str = Field(max_length=64)
    self_signing_key: str | None = Field(default=None, max_length=64)
    pinned_at: datetime = Field(sa_column=utc_column())
    event_id: str | None = Field(default=None, max_length=255)
    pending_key: str | None = Field(default=None, max_length=64)
    pending_ssk: str | None = Field(default=None, max_length=64)
    pending_since: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    pending_event: str | None = Field(default=None, max_length=255)
    refused_key: str | None = Field(default=None, max_length=64)  # by `!roster distrust`


T = TypeVar("T")


class Seen(StrEnum):
    FIRST = "first"  # pinned now
    SAME = "same"  # the pinned key
    CHANGED = "changed"  # a new key, recorded as pending now: say so
    STILL_CHANGED = "still changed"  # the pending key again
    REFUSED = "refused"  # the key the chair refused (`!roster distrust`)


class Confirmed(StrEnum):
    CONFIRMED = "confirmed"
    NOTHING_PENDING = "nothing pending"
    OTHER_KEY = "other key"  # the fingerprint typed is not the pending key


@dataclass(frozen=True)
class Pinned:
    """One member's identity as the bot holds it."""

    user_id: str
    master_key: str
    self_signing_key: str | None
    pending_key: str | None = None
    pending_since: datetime | None = None
    refused_key: str | None = None


def _frozen(row: Identity) -> Pinned:
    return Pinned(
        row.user_id,
        row.master_key,
        row.self_signing_key,
        row.pending_key,
        row.pending_since,
        row.refused_key,
    )


class IdentityStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session
        self.changed = False  # the Database counts a generation when a change commits

    async def get(self, user_id: str) -> Pinned | None:
        row = await self._s.get(Identity, user_id)
        return _frozen(row) if row is not None else None

    async def all(self) -> list[Pinned]:
        return [_frozen(row) for row in await self._s.scalars(select(Identity))]

    async def seen(
        self, user_id: str, key: str, ssk: str | None, *, event_id: str | None, now: datetime
    ) -> Seen:
        """A member used a device cross-signed by `key` (through `ssk`): pin it, or compare."""
        found = await self._s.get(Identity, user_id)
        if found is None:
            self._s.add(
                Identity(
                    user_id=user_id,
                    master_key=key,
                    self_signing_key=ssk,
                    pinned_at=now,
                    event_id=event_id,
                )
            )
            return await self._changed(Seen.FIRST)
        if found.master_key == key:
            if ssk and found.self_signing_key != ssk:
                found.self_signing_key = ssk  # pinned before keys were kept, or rotated
                return await self._changed(Seen.SAME)
            return Seen.SAME
        if found.refused_key == key:
            return Seen.REFUSED
        if found.pending_key == key:
            return Seen.STILL_CHANGED
        found.pending_key, found.pending_ssk = key, ssk
        found.pending_since, found.pending_event = now, event_id
        return await self._changed(Seen.CHANGED)

    async def confirm(self, user_id: str, key: str, *, now: datetime) -> Confirmed:
        """Make the pending key the member's identity, if it is `key` (the fingerprint the
        chair compared with the member out of band)."""
        found = await self._s.get(Identity, user_id)
        if found is None or found.pending_key is None:
            return Confirmed.NOTHING_PENDING
        if found.pending_key != key:
            return Confirmed.OTHER_KEY
        found.master_key, found.self_signing_key = key, found.pending_ssk
        found.pinned_at, found.event_id = now, found.pending_event
        found.refused_key = None
        self._clear_pending(found)
        return await self._changed(Confirmed.CONFIRMED)

    async def vouch(self, user_id: str, key: str, *, now: datetime) -> None:
        """The config vouches for `key` (`master_key` in a [[roster]] entry): pinned as is."""
        found = await self._s.get(Identity, user_id)
        if found is None:
            self._s.add(Identity(user_id=user_id, master_key=key, pinned_at=now))
        elif found.master_key != key:
            ssk = found.pending_ssk if found.pending_key == key else None
            found.master_key, found.self_signing_key, found.pinned_at = key, ssk, now
            self._clear_pending(found)
        else:
            return
        await self._changed(None)

    async def distrust(self, user_id: str, *, now: datetime) -> str | None:
        """Refuse the pending key (the pinned one stays); returns it, None if none waited."""
        found = await self._s.get(Identity, user_id)
        if found is None or found.pending_key is None:
            return None
        refused = found.refused_key = found.pending_key
        self._clear_pending(found)
        await self._changed(None)
        return refused

    @staticmethod
    def _clear_pending(found: Identity) -> None:
        found.pending_key = found.pending_ssk = None
        found.pending_since = found.pending_event = None

    async def _changed(self, result: T) -> T:
        self.changed = True
        await self._s.flush()
        return result
